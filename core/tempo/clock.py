"""Tempo from a MIDI clock (24 pulses per quarter note): steady readings under jitter, a tempo step followed at once.

Qt-free and device-free: fed with pulse times (seconds). core.devices.midi stamps each pulse with the time the MIDI
system saw it (rtmidi's deltas), not with when Python got to read it. What a real sender over JACK looks like
(`jack_midi_clock` on the dummy server, tests/clock_captures.json):
- each pulse is stamped at the start of the JACK cycle it falls in: times sit on a grid of whole periods (5.3 ms
  at 48 kHz / 256 frames), so single intervals are off by up to a period (at 140 BPM they read 3 or 4 periods);
- when a cycle runs late the server's clock re-anchors: every later pulse is shifted by the delay (a phase jump,
  4-6 periods seen), for good. A line fitted across such a jump tilts (18 BPM seen);
- a pulse is now and then lost or late, and a starved server holds pulses back and delivers them in a burst.

How a reading is made (over the last four beats):
- Segments: pulses that keep one phase against the current period, t - period * n staying inside a band one grid
  step wide (the spread of the intervals: the quantum). A pulse outside starts a new segment: a jump, a lost pulse
  or a burst ends a segment instead of tilting the line. Late pulses, caught up with (a short interval) and then
  on the segment's phase again within LOOKAHEAD pulses, are left out, and the segment goes on.
- The period is the least-squares slope shared by all segments, each with its own offset (pulses far off their
  segment's line left out): the period quantisation averages out over many pulses, jumps count for nothing.
- A tempo step: the latest pulses (6, 12 or 24 of them) lie tight on a line of their own that drifts from the
  current period by STEP_DRIFT bands over the run, with most intervals off the old period the same way; a phase
  jump inside a run leaves it far from tight. Seen on two pulses running, the window restarts with the run, less
  first pulses that lie off the line through the rest (the run may begin with the old tempo's last pulses).
- The reading shown is the median of the last three fits (a single odd fit never shows).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Optional

import numpy as np

from core.devices.midi_messages import PULSES_PER_QUARTER
from core.tempo.bars import MAX_BPM, MIN_BPM

WINDOW_PULSES = 4 * PULSES_PER_QUARTER  # pulses in the steady fit: four beats
MIN_PULSES = 5  # a first reading (after a start or a tempo step) needs this many pulses
STEP_RUNS = (6, 12, 24)  # runs of the latest pulses tested for a tempo step (big steps show in 6, small in 24)
SETTLED = 2 * PULSES_PER_QUARTER  # pulses after which a reading has settled (for `steps`)
STALE_AT_STEP = 2  # pulses at the start of a step's run that may be the old tempo's
MIN_BEFORE = 12  # pulses a settled period must rest on before a step can be called against it
STEP_DRIFT = 2.0  # bands of drift over a run that make a step
STEP_ALONG, STEP_AGREE = 0.3, 0.8  # ... and 80 % of its intervals off the old period, the step's way, by 30 % of it
STEP_GAP = 0.5  # ... and no interval off its period by half a period (a lost pulse inside the run)
STEP_TIGHT = 0.25  # ... and the run's spread about its own line at most this share of the drift
TOLERANCE = 0.001  # seconds added to the band: scheduling jitter of a pulse that is not late
QUANTUM_FLOOR = 256 / 48000  # seconds: the least grid assumed, a usual JACK period (256 frames at 48 kHz)
NORMAL_SPREAD = 0.45  # intervals within this share of the period are quantisation, not loss or burst
LATE_LIMIT, EARLY_LIMIT = 0.45, 0.6  # bands off its segment's middle (late, early) past which a pulse is left out
LOOKAHEAD = 3  # pulses after one off the segment that may bring it back (then it was late, not a jump)
GRID_ON, GRID_SHARE = 0.05, 0.85  # intervals within 5 % of a grid step of whole steps, 85 % of them: a grid
GRID_JUMP = 0.12  # grid steps the grid phase must move, and stay moved, to be a jump of the server's clock
MEDIAN_OF = 3  # fits the shown reading is the median of
CLOCK_TIMEOUT = 1.0  # seconds without a pulse: the clock is gone (the DAW stopped sending)


def quantum(times: np.ndarray, period: float) -> float:
    """The grid the pulse times sit on: the spread of the usual intervals (the middle 90 %: a spike is not the
    grid), at least QUANTUM_FLOOR. Over JACK the intervals fall on two neighbouring whole periods, one period
    apart; a JACK period is the floor, so that a tempo whose intervals are nearly always the same whole number of
    periods does not split its segments where the odd one comes."""
    intervals = np.diff(times)
    usual = intervals[np.abs(intervals - period) <= NORMAL_SPREAD * period]
    if len(usual) < 2:
        return QUANTUM_FLOOR
    low, high = np.percentile(usual, [5, 95])
    return float(min(max(high - low, QUANTUM_FLOOR), period))


def grid_phase(times: np.ndarray, step: float) -> Optional[np.ndarray]:
    """Where the pulses sit on the JACK cycle grid (grid steps, unwrapped), or None when they do not sit on one.

    Over JACK every pulse is stamped at the start of a cycle, so nearly every interval is a whole number of cycles
    (within GRID_ON of one, on a server that keeps time): then the grid step is refined from them, and the phase
    of each pulse on it is the running sum of the intervals' parts off whole steps. The phase holds still while
    the server keeps time; one late pulse moves it and moves it back; a late cycle the server never catches up
    moves it for good: a phase jump, however small. A small jump (a fraction of a cycle) stays inside the band
    and would tilt the fit (174 BPM read 173.4 after two jumps of 0.38 and 0.46 cycles)."""
    intervals = np.diff(times)
    whole = np.round(intervals / step)
    on = (whole >= 1) & (np.abs(intervals / step - whole) <= GRID_ON)
    if len(intervals) < MIN_PULSES or np.mean(on) < GRID_SHARE:
        return None
    step = float(np.sum(intervals[on]) / np.sum(whole[on]))  # the grid step from the whole-step intervals
    offs = intervals / step
    offs -= np.round(offs)
    return np.concatenate([[0.0], np.cumsum(offs)])


def segments(times: np.ndarray, period: float, band: float,
             grid: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(segment label, pulse number within its segment, kept) per pulse. A pulse joins the current segment while
    all its phases (time - period * number) stay within `band` and, where the pulses sit on a grid, its grid
    phase (`grid`, from grid_phase) stays within GRID_JUMP of the segment's; else it starts a new one, unless
    one of the next LOOKAHEAD pulses fits the segment again (the ones off it were late: left out, the segment
    goes on)."""
    n = len(times)
    label = np.zeros(n, dtype=np.int64)
    number = np.zeros(n)
    kept = np.ones(n, dtype=bool)
    seg, first, count = 0, times[0], 0.0
    lo = hi = 0.0

    level = grid[0] if grid is not None else 0.0

    def fits(i: int, k: float) -> bool:
        if grid is not None and abs(grid[i] - level) > GRID_JUMP:
            return False
        phase = times[i] - first - period * k
        return max(hi, phase) - min(lo, phase) <= band

    i = 1
    while i < n:
        k = count + 1
        if fits(i, k):
            phase = times[i] - first - period * k
            lo, hi, count = min(lo, phase), max(hi, phase), k
            label[i], number[i] = seg, k
            i += 1
            continue
        back = next((j for j in range(1, LOOKAHEAD + 1) if i + j < n and fits(i + j, k + j)), None)
        if back is not None:  # late pulses, caught up with, and then the segment's phase again: skip them
            kept[i:i + back], label[i:i + back] = False, seg
            number[i:i + back] = k + np.arange(back)
            count = k + back - 1
            i += back
            continue
        seg, first, count, lo, hi = seg + 1, times[i], 0.0, 0.0, 0.0
        level = grid[i] if grid is not None else 0.0
        label[i], number[i] = seg, 0.0
        i += 1
    return label, number, kept


def shared_slope(label: np.ndarray, number: np.ndarray, times: np.ndarray, keep: np.ndarray) -> Optional[float]:
    """The least-squares slope shared by all segments, each with its own offset; None if nothing spans a pulse."""
    sxy = sxx = 0.0
    for seg in np.unique(label[keep]):
        mask = keep & (label == seg)
        if mask.sum() < 2:
            continue
        x, y = number[mask], times[mask]
        dx = x - x.mean()
        sxy += float(np.dot(dx, y - y.mean()))
        sxx += float(np.dot(dx, dx))
    return sxy / sxx if sxx > 0 else None


def segmented_fit(times: np.ndarray, period: float) -> Optional[tuple[float, float]]:
    """(seconds per pulse, band) over `times` read against a first guess `period`: segment, fit, segment again
    with the fitted period, then leave out pulses far off their segment's line and fit once more."""
    step = quantum(times, period)
    band = step + TOLERANCE
    grid = grid_phase(times, step)
    slope = period
    keep = None
    for _ in range(2):
        label, number, keep = segments(times, slope, band, grid)
        fitted = shared_slope(label, number, times, keep)
        if fitted is None or fitted <= 0:
            return None
        slope = fitted
    residual = np.zeros(len(times))
    for seg in np.unique(label[keep]):
        mask = keep & (label == seg)
        residual[mask] = times[mask] - number[mask] * slope
        residual[mask] -= np.median(residual[mask])
    tight = keep & (residual <= LATE_LIMIT * band) & (residual >= -EARLY_LIMIT * band)
    if tight.sum() < keep.sum():
        refit = shared_slope(label, number, times, tight)
        if refit is not None and refit > 0:
            slope = refit
    return slope, band


def run_line(times: np.ndarray) -> tuple[float, float, float]:
    """(slope, spread of residuals, largest step off the slope) of a line through consecutive pulses, the
    latest-running one left out (one late pulse in a run says nothing about its tempo). The step is the largest
    difference between an interval (per pulse, across the one left out) and the slope."""
    index = np.arange(len(times), dtype=np.float64)
    slope, offset = np.polyfit(index, times, 1)
    keep = np.ones(len(times), dtype=bool)
    keep[int(np.argmax(times - (offset + slope * index)))] = False
    slope, offset = np.polyfit(index[keep], times[keep], 1)
    residual = times[keep] - (offset + slope * index[keep])
    steps = np.diff(times[keep]) / np.diff(index[keep])
    return float(slope), float(residual.max() - residual.min()), float(np.max(np.abs(steps - slope)))


def _bpm(seconds_per_pulse: float) -> float:
    return 60.0 / (seconds_per_pulse * PULSES_PER_QUARTER)


class ClockTempo:
    """Tempo from MIDI clock pulses. `pulse(t)` per 0xF8 with its time; `bpm` is None until read."""

    def __init__(self, window: int = WINDOW_PULSES) -> None:
        self.window = window
        self._times: deque[float] = deque(maxlen=window)
        self._bpm: Optional[float] = None
        self._fits: deque[float] = deque(maxlen=MEDIAN_OF)
        self._period: Optional[float] = None  # seconds per pulse of the last fit
        self._band: Optional[float] = None
        self._pending = False  # the last pulse showed a step (one more must, before the window restarts)
        self.steps = 0  # tempo steps seen (re-seeds); for tests and diagnostics

    @property
    def bpm(self) -> Optional[float]:
        return self._bpm

    def reset(self) -> None:
        self._times.clear()
        self._fits.clear()
        self._bpm = None
        self._period = None
        self._band = None
        self._pending = False

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
        run = self._step_run(times)
        run, self._pending = (run if self._pending else None), run is not None  # a step shows on two pulses running
        if run:
            self.steps += len(times) >= SETTLED  # a re-seed within the first beats mends a bad start; not a step
            run -= self._stale_lead(times[-run:])
            while len(self._times) > run:
                self._times.popleft()
            times = times[-run:]
            self._fits.clear()
            self._period = run_line(times)[0]
        guess = self._period or self._rough_period(times)
        if guess is None:
            return self._bpm
        fit = segmented_fit(times, guess)
        if fit is None or not MIN_BPM <= _bpm(fit[0]) <= MAX_BPM:
            return self._bpm
        self._period, self._band = fit
        self._fits.append(_bpm(fit[0]))
        self._bpm = float(np.median(self._fits))
        return self._bpm

    def _stale_lead(self, run: np.ndarray) -> int:
        """How many of the run's first pulses (at most STALE_AT_STEP) still belong to the old tempo: off the line
        through the rest by half the step's shift or more (the run may begin just before the step). A new pulse
        taken for an old one only costs a pulse."""
        rest = run[STALE_AT_STEP:]
        slope, offset = np.polyfit(np.arange(STALE_AT_STEP, len(run), dtype=np.float64), rest, 1)
        shift = abs(slope - self._period) if self._period is not None else 0.0
        lead = 0
        while lead < STALE_AT_STEP and abs(run[lead] - (offset + slope * lead)) > shift / 2:
            lead += 1
        return lead

    @staticmethod
    def _rough_period(times: np.ndarray) -> Optional[float]:
        """A period for a window too young for a fit: the mean interval, leaving out long ones (a loss or a late
        pulse), short ones (a burst) and the one after a long one (a late pulse's catch-up). Not a median: the
        intervals sit on JACK's period grid, and their median is off by up to a period's share."""
        intervals = np.diff(times)
        if len(intervals) < MIN_PULSES - 1:
            return None
        median = float(np.median(intervals))
        odd = np.abs(intervals - median) > NORMAL_SPREAD * median
        usable = intervals[~(odd | np.concatenate([[False], odd[:-1]]))]
        return float(np.mean(usable)) if len(usable) and np.mean(usable) > 0 else None

    def _step_run(self, times: np.ndarray) -> Optional[int]:
        """The length of the run of latest pulses that shows a tempo step, or None without one.

        A step: the run lies on one line of its own, tight (its spread within the band and a small share of the
        drift, every interval within the band of its period), and that line drifts from the current period by
        STEP_DRIFT bands over the run. A phase jump inside a run also tilts its line, but then the run is not tight:
        half the jump is left over either side, and the interval across the jump is a band or more too long."""
        if self._period is None or self._band is None:
            return None
        for run in STEP_RUNS:
            if len(times) < run + MIN_BEFORE:
                break
            slope, spread, step = run_line(times[-run:])
            if slope <= 0 or not MIN_BPM <= _bpm(slope) <= MAX_BPM:
                continue
            shift = slope - self._period
            drift = abs(shift) * (run - 1)
            steady = spread <= min(self._band, STEP_TIGHT * drift) and step <= min(self._band, STEP_GAP * slope)
            along = np.mean((np.diff(times[-run:]) - self._period) * np.sign(shift) >= STEP_ALONG * abs(shift))
            if drift > STEP_DRIFT * self._band and steady and along >= STEP_AGREE:
                return run
        return None
