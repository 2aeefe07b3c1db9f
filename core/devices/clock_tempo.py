"""Tempo from a MIDI clock (24 pulses per quarter note): steady readings under jitter, a tempo step followed at once.

Qt-free and device-free: fed with pulse times (seconds). core.devices.midi stamps each pulse with the time the MIDI
system saw it (rtmidi's deltas), not with when Python got to read it; what jitter is left is JACK's period (a pulse
is seen at the start of the next 5 ms cycle) and a busy sender or server now and then (pulses late, a few lost).

How a reading is made:
- Pulse numbers: a gap of about two periods is a lost pulse (numbered past), unless the next interval is short
  (then the pulse was late and the next one caught up) or the neighbouring gaps are long too (a slower tempo).
- The window (four beats) is fitted with a straight line, pulse number -> time, and the slope read as seconds per
  pulse. The fit is robust: pulses far off the line are left out, late ones (the one-sided part of the jitter) sooner
  than early ones. A least-squares slope over many pulses averages the period quantisation out.
- A tempo step: the latest CHANGE_RUN pulses are all off the line fitted to the pulses before them, on one side, and
  still drifting away (a stall's burst of late pulses catching up is past its peak; a single long gap waits for the
  next pulse). The window then restarts where they began, so the estimate is
  re-seeded from the new tempo's pulses alone instead of sliding over from the old one; it is within a fraction of a
  BPM two beats later.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Optional

import numpy as np

from core.audio.bars import MAX_BPM, MIN_BPM

from .midi_messages import PULSES_PER_QUARTER

WINDOW_PULSES = 4 * PULSES_PER_QUARTER  # pulses in the steady fit: four beats
MIN_PULSES = 5  # a first reading (after a start or a tempo step) needs this many pulses
CHANGE_RUN = 4  # this many pulses off the line, one side, not closing in: a tempo step
MIN_BEFORE = 16  # pulses the line must rest on before a step can be called
MISSED_RATIO = 1.6  # an interval this many periods long may hold a lost pulse
BURST_RATIO = 0.3  # an interval this short (in periods) is a burst after a stall (JACK's grid never makes one)
LOOKAHEAD = 6  # pulses after a long interval that tell a lost pulse from a late one
CLOCK_TIMEOUT = 1.0  # seconds without a pulse: the clock is gone (the DAW stopped sending)
SCALE_FLOOR = 0.0003  # seconds: the smallest jitter scale assumed (a perfect clock must not make every pulse an outlier)
LATE_LIMIT, EARLY_LIMIT = 1.5, 3.0  # jitter scales off the line (late, early) past which a pulse is left out
CHANGE_LIMIT = 4.0  # jitter scales off the line that count towards a tempo step
CHANGE_FLOOR = 0.1  # ... and at least this fraction of a period


def pulse_numbers(times: np.ndarray, period: Optional[float] = None) -> np.ndarray:
    """The pulse number of each time (0 for the first): consecutive unless a pulse was lost in between.

    `period` is the seconds per pulse of a settled fit; without one nothing counts as lost (a window that has
    just started has no period good enough to count by). A long interval holds lost pulses only if the next few
    pulses say so: a late pulse (or a burst after a stall) is followed by short intervals that catch up; after a
    lost one the count stays a period ahead. A run of long intervals is a slower tempo. In doubt a pulse counts
    as late: an uncounted loss shifts the pulses after it by a period, which the tempo-step test restarts from.
    """
    intervals = np.diff(times)
    steps = np.ones(len(intervals))
    if period is None or period <= 0 or len(intervals) == 0:
        return np.concatenate([[0.0], np.cumsum(steps)])
    ref = period
    long = intervals > MISSED_RATIO * ref
    for i in np.flatnonzero(long):
        if (i > 0 and long[i - 1]) or (i + 1 < len(long) and long[i + 1]):
            continue  # long gaps one after another: a slower tempo
        ahead = min(LOOKAHEAD, len(intervals) - 1 - i)
        if ahead < 2 or abs(float(np.median(intervals[i + 1:i + 1 + ahead])) / ref - 1.0) > 0.3:
            continue  # too soon to tell, or the pulses after it do not keep the period (a burst, a new tempo)
        # Periods from it to each of the next few pulses, less the pulses seen: all must agree on a loss (a late
        # pulse among them only adds, so the least count is the one to trust).
        steps[i] = max(1.0, float(min(round((times[i + 1 + j] - times[i]) / ref) - j for j in range(1, ahead + 1))))
    return np.concatenate([[0.0], np.cumsum(steps)])


def robust_line(index: np.ndarray, times: np.ndarray) -> Optional[tuple[float, float, float]]:
    """(slope, offset, jitter scale) of times against pulse numbers, pulses far off the line left out.

    Starts from the Theil-Sen line (the median of the slopes between all pairs of pulses), which a burst of
    bunched-up pulses after a stall (a fifth of the window or more) cannot tilt the way it tilts least squares;
    then least squares over the pulses near that line, for its precision."""
    keep = _near_line(index, times, *_theil_sen(index, times))
    slope = offset = scale = 0.0
    for _ in range(3):
        slope, offset = np.polyfit(index[keep], times[keep], 1)
        residual = times - (offset + slope * index)
        centre = float(np.median(residual[keep]))
        scale = max(1.4826 * float(np.median(np.abs(residual[keep] - centre))), SCALE_FLOOR)
        off = residual - centre
        new_keep = (off <= LATE_LIMIT * scale) & (off >= -EARLY_LIMIT * scale)
        if new_keep.sum() < max(MIN_PULSES - 1, len(times) // 2) or (new_keep == keep).all():
            break
        keep = new_keep
    if slope <= 0:
        return None
    return float(slope), float(offset), scale


def _theil_sen(index: np.ndarray, times: np.ndarray) -> tuple[float, float]:
    i, j = np.triu_indices(len(times), k=1)
    slope = float(np.median((times[j] - times[i]) / (index[j] - index[i])))
    return slope, float(np.median(times - slope * index))


def _near_line(index: np.ndarray, times: np.ndarray, slope: float, offset: float) -> np.ndarray:
    """Pulses near the line, less bursts: pulses that came right behind the one before them (and that one) were
    held up together by a stall, so their times say nothing about the tempo."""
    off = times - (offset + slope * index)
    scale = max(1.4826 * float(np.median(np.abs(off))), SCALE_FLOOR)
    keep = (off <= 2 * LATE_LIMIT * scale) & (off >= -2 * EARLY_LIMIT * scale)
    bunched = np.concatenate([[False], np.diff(times) < BURST_RATIO * slope])
    bunched[:-1] |= bunched[1:]
    if (keep & ~bunched).sum() >= max(MIN_PULSES - 1, len(times) // 3):
        return keep & ~bunched
    return keep if keep.sum() >= MIN_PULSES - 1 else np.ones(len(times), bool)


class ClockTempo:
    """Tempo from MIDI clock pulses. `pulse(t)` per 0xF8 with its time; `bpm` is None until read."""

    def __init__(self, window: int = WINDOW_PULSES) -> None:
        self.window = window
        self._times: deque[float] = deque(maxlen=window + 1)
        self._bpm: Optional[float] = None
        self._period: Optional[float] = None  # seconds per pulse of the last fit over a settled window
        self.steps = 0  # tempo steps seen (re-seeds); for tests and diagnostics

    @property
    def bpm(self) -> Optional[float]:
        return self._bpm

    def reset(self) -> None:
        self._times.clear()
        self._bpm = None
        self._period = None

    def is_running(self, now: Optional[float] = None) -> bool:
        now = time.monotonic() if now is None else now
        return bool(self._times) and now - self._times[-1] < CLOCK_TIMEOUT

    def pulse(self, timestamp: float) -> Optional[float]:
        if self._times and timestamp - self._times[-1] > CLOCK_TIMEOUT:
            self.reset()  # the clock stopped and started again: old pulses say nothing about the new tempo
        if self._times:
            timestamp = max(timestamp, self._times[-1])  # time never runs backwards
        self._times.append(timestamp)
        if len(self._times) < MIN_PULSES:
            return self._bpm
        times = np.asarray(self._times, dtype=np.float64)
        index = pulse_numbers(times, self._period or self._rough_period(times))
        start = self._step_start(times, index)
        if start:
            self.steps += 1
            for _ in range(start):
                self._times.popleft()
            times, index = times[start:], index[start:] - index[start]
            self._period = None
        fit = robust_line(index, times)
        if fit is not None:
            bpm = 60.0 / (fit[0] * PULSES_PER_QUARTER)
            if MIN_BPM <= bpm <= MAX_BPM:
                self._bpm = bpm
                self._period = fit[0] if len(times) >= MIN_BEFORE else None
        return self._bpm

    @staticmethod
    def _rough_period(times: np.ndarray) -> Optional[float]:
        """A period to count lost pulses by in a window too young for a settled fit: the mean interval, leaving
        out long ones (a loss or a late pulse) and the one after each (a late pulse's catch-up). Not a median:
        intervals sit on JACK's period grid, and their median is off by up to a period's share."""
        intervals = np.diff(times)
        if len(intervals) < MIN_PULSES - 1:
            return None
        long = intervals > MISSED_RATIO * float(np.median(intervals))
        usable = intervals[~(long | np.concatenate([[False], long[:-1]]))]
        return float(np.mean(usable)) if len(usable) and np.mean(usable) > 0 else None

    def _step_start(self, times: np.ndarray, index: np.ndarray) -> Optional[int]:
        """Where a tempo step began (the position in the window to restart from), or None without one."""
        if self._bpm is None or len(times) < MIN_BEFORE + CHANGE_RUN:
            return None
        fit = robust_line(index[:-CHANGE_RUN], times[:-CHANGE_RUN])
        if fit is None:
            return None
        slope, offset, scale = fit
        last, before = times[-1] - times[-2], times[-2] - times[-3]
        if last > MISSED_RATIO * slope and before <= MISSED_RATIO * slope:
            return None  # one long gap: a stall (its burst comes next) or a loss, not yet a slower tempo
        residual = times[-CHANGE_RUN:] - (offset + slope * index[-CHANGE_RUN:])
        limit = max(CHANGE_LIMIT * scale, CHANGE_FLOOR * slope)
        one_side = (residual > limit).all() or (residual < -limit).all()
        closing_in = abs(residual[-1]) < float(np.abs(residual).max()) - scale  # past its peak: a stall's burst
        if not one_side or closing_in:
            return None
        # The step began at the pulse before the first one off the line (the last on the old tempo): the interval
        # after it is the new tempo's. Earlier pulses that already drift count too.
        start = len(times) - CHANGE_RUN
        while start > 1 and abs(times[start - 1] - (offset + slope * index[start - 1])) > limit / 2:
            start -= 1
        return start - 1
