"""Session tempo and transport: follow a MIDI clock, tap a tempo, track Start/Stop/Continue/Song Position.

Qt-free; fed with parsed events (core.devices.midi_messages) on the GUI thread after the MIDI queue is drained.
The clock follower itself is core.tempo.clock (a segmented line fit over four beats, re-seeded at a tempo step).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np

from core.devices.midi_messages import PULSES_PER_QUARTER, PULSES_PER_SIXTEENTH, MidiEvent
from core.tempo.bars import MAX_BPM, MIN_BPM
from core.tempo.clock import ClockTempo


class TapTempo:
    """Tempo from taps (a button, a key, a learned MIDI note): the mean of recent intervals.

    A pause longer than `reset_after` seconds starts a new count; an interval far off the others is dropped.
    """

    def __init__(self, keep: int = 8, reset_after: float = 2.0) -> None:
        self.keep = keep
        self.reset_after = reset_after
        self._taps: deque[float] = deque(maxlen=keep)

    def tap(self, timestamp: Optional[float] = None) -> Optional[float]:
        """Register a tap; returns the tempo once two taps are in, else None."""
        now = time.monotonic() if timestamp is None else timestamp
        if self._taps and now - self._taps[-1] > self.reset_after:
            self._taps.clear()
        self._taps.append(now)
        if len(self._taps) < 2:
            return None
        intervals = np.diff(np.asarray(self._taps))
        median = float(np.median(intervals))
        steady = intervals[np.abs(intervals / median - 1.0) <= 0.3]
        bpm = 60.0 / float(np.mean(steady if len(steady) else intervals))
        return float(np.clip(bpm, MIN_BPM, MAX_BPM))


@dataclass
class TransportState:
    """What the DAW's transport says: playing or not, and where (in quarter notes from the song's start)."""

    playing: bool = False
    beats: float = 0.0

    def seconds(self, bpm: float) -> float:
        return self.beats * 60.0 / bpm


class Transport:
    """Start/Stop/Continue/Song Position Pointer and clock pulses -> a transport state and what changed.

    `handle(event)` returns "start", "stop", "continue" or "position" when the app must act, else None.
    While playing, each clock pulse advances the position by 1/24 of a beat.
    """

    def __init__(self) -> None:
        self.state = TransportState()
        self.clock = ClockTempo()

    @property
    def bpm(self) -> Optional[float]:
        return self.clock.bpm

    def handle(self, event: MidiEvent) -> Optional[str]:
        kind = event.kind
        if kind == "clock":
            self.clock.pulse(event.timestamp)
            if self.state.playing:
                self.state.beats += 1.0 / PULSES_PER_QUARTER
            return None
        if kind == "start":
            self.state = TransportState(playing=True, beats=0.0)
            return "start"
        if kind == "continue":
            self.state.playing = True
            return "continue"
        if kind == "stop":
            self.state.playing = False
            return "stop"
        if kind == "song_position":
            self.state.beats = event.value * PULSES_PER_SIXTEENTH / PULSES_PER_QUARTER
            return "position"
        return None
