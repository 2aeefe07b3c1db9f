"""Models: the catalog of checkpoints, the local store (Hugging Face cache), loading fixes."""
