"""Audio as files and arrays: clip I/O, the model mel front-end, overviews, seams, export formats, provenance."""
