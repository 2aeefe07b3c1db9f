"""The library of every generation (sqlite) and its files."""
