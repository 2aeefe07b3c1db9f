"""LOA Studio's Qt desktop window: a thin client of `core`."""
