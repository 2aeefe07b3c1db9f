"""Compact mode: a small always-on-top window (studio.compact.window)."""
