"""The `loa` command-line client: a thin layer over core's engine."""
