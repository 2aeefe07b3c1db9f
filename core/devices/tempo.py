"""Session tempo and transport: follow a MIDI clock, tap a tempo, track Start/Stop/Continue/Song Position.

Qt-free; fed with parsed events (core.devices.midi_messages) on the GUI thread after the MIDI queue is drained.

Clock tempo: 24 pulses per quarter note. The pulse times of a sliding window (four beats) are fitted with a
straight line (pulse index -> time; least squares), whose slope is the seconds per pulse: arrival jitter
(JACK delivers events once per period, 5 ms at 256 frames) averages out instead of sitting on the two end
points as a mean of intervals would. Outliers are dropped: a missed pulse (an interval twice the median)
counts as two pulses, and a pulse whose residual is far off the line is left out of the fit. When the
recent intervals all disagree with the estimate (a tempo change), the window restarts at the change, so a
new tempo is read within a beat and refined over the next.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np

from core.errors import InputError

from .midi_messages import PULSES_PER_QUARTER, PULSES_PER_SIXTEENTH, MidiEvent

MIN_BPM, MAX_BPM = 20.0, 400.0
WINDOW_PULSES = 4 * PULSES_PER_QUARTER  # four beats of pulses in the fit (a change restarts it)
CHANGE_PULSES = 12  # the median of this many recent intervals off the estimate by CHANGE_RATIO restarts the window
CHANGE_RATIO = 0.12
MISSED_RATIO = 1.8  # an interval this many times the median holds a missed pulse
CLOCK_TIMEOUT = 1.0  # seconds without a pulse: the clock is gone (the DAW stopped sending)


def check_bpm(bpm) -> float:
    if isinstance(bpm, bool) or not isinstance(bpm, (int, float)) or not np.isfinite(bpm) \
            or not MIN_BPM <= bpm <= MAX_BPM:
        raise InputError(f"tempo must be a number from {MIN_BPM:g} to {MAX_BPM:g} BPM (got {bpm!r}).")
    return float(bpm)


class ClockTempo:
    """Tempo from MIDI clock pulses. `pulse(t)` per 0xF8 with its arrival time; `bpm` is None until read."""

    def __init__(self, window: int = WINDOW_PULSES) -> None:
        self.window = window
        self._times: deque[float] = deque(maxlen=window + 1)
        self._bpm: Optional[float] = None

    @property
    def bpm(self) -> Optional[float]:
        return self._bpm

    def reset(self) -> None:
        self._times.clear()
        self._bpm = None

    def is_running(self, now: Optional[float] = None) -> bool:
        now = time.monotonic() if now is None else now
        return bool(self._times) and now - self._times[-1] < CLOCK_TIMEOUT

    def pulse(self, timestamp: float) -> Optional[float]:
        if self._times and timestamp - self._times[-1] > CLOCK_TIMEOUT:
            self.reset()  # the clock stopped and started again: old pulses say nothing about the new tempo
        self._times.append(timestamp)
        if len(self._times) < 7:
            return self._bpm
        times = np.asarray(self._times, dtype=np.float64)
        if self._bpm is not None and self._changed(times):
            # The median flipped, so at least the last half of those intervals are the new tempo's: keep them.
            for _ in range(len(times) - CHANGE_PULSES // 2 - 1):
                self._times.popleft()
            times = np.asarray(self._times, dtype=np.float64)
        bpm = self._fit(times)
        if bpm is not None:
            self._bpm = bpm
        return self._bpm

    def _changed(self, times: np.ndarray) -> bool:
        """The median of the last CHANGE_PULSES intervals is off the estimate: the tempo changed. (A median, as
        single intervals jitter by a JACK period; after a change most recent intervals agree on the new tempo.)"""
        expected = 60.0 / (self._bpm * PULSES_PER_QUARTER)
        recent = np.diff(times[-CHANGE_PULSES - 1:])
        return len(recent) == CHANGE_PULSES and abs(float(np.median(recent)) / expected - 1.0) > CHANGE_RATIO

    @staticmethod
    def _fit(times: np.ndarray) -> Optional[float]:
        intervals = np.diff(times)
        median = float(np.median(intervals))
        if median <= 0:
            return None
        # Pulse numbers: a gap of two intervals or more is a missed pulse, not a slower tempo; but a long gap
        # followed by a very short one is a late pulse (a stalled sender catching up), not a missed one.
        long_gap = intervals > MISSED_RATIO * median
        caught_up = np.append(intervals[1:] < 0.5 * median, False)
        steps = np.where(long_gap & ~caught_up, np.round(intervals / median), 1).astype(np.int64)
        index = np.concatenate([[0], np.cumsum(steps)]).astype(np.float64)
        keep = np.ones(len(times), bool)
        for _ in range(2):
            slope, offset = np.polyfit(index[keep], times[keep], 1)
            residual = np.abs(times - (offset + slope * index))
            limit = max(3.0 * float(np.median(residual[keep])), 0.25 * median)
            new_keep = residual <= limit
            if new_keep.sum() < 4 or (new_keep == keep).all():
                break
            keep = new_keep
        if slope <= 0:
            return None
        bpm = 60.0 / (slope * PULSES_PER_QUARTER)
        return bpm if MIN_BPM <= bpm <= MAX_BPM else None


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
