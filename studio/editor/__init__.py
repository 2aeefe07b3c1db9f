"""The waveform editor in the window: transport, edit actions, import, generative edits from a selection."""
