"""Devices: audio playback and recording (MIDI joins here)."""
