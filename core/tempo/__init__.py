"""Tempo in one place: bars and meters (bars), the MIDI clock follower (clock), tap tempo and transport (transport),
a loop's estimated tempo (estimate)."""
