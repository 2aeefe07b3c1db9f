"""The MIDI clock follower on synthetic pulse times with JACK-like jitter (no MIDI system needed).

The noise model is what the real JACK dummy server showed (tests/test_midi_jack.py): each pulse is seen at the start
of the next 256-frame period (5.3 ms at 48 kHz), after a scheduling delay (exponential, now and then a spike of
5-30 ms), a few periods run late, and a pulse is lost now and then.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.devices.midi import MidiInput
from core.tempo.clock import ClockTempo

PERIOD = 256 / 48000


def jack_arrivals(ideal: np.ndarray, seed: int, heavy: bool = True):
    """Arrival times of pulses sent at `ideal` times, and which ones arrived at all."""
    rng = np.random.default_rng(seed)
    delay = rng.exponential(0.0015 if heavy else 0.0005, len(ideal))
    spikes = rng.random(len(ideal)) < (0.02 if heavy else 0.005)
    delay[spikes] += rng.uniform(0.005, 0.03, spikes.sum())
    phase = rng.uniform(0, PERIOD)
    times = np.ceil((ideal + delay - phase) / PERIOD) * PERIOD + phase
    late_cycle = rng.random(len(ideal)) < (0.03 if heavy else 0.0)
    times[late_cycle] += rng.exponential(0.004, late_cycle.sum())
    arrived = rng.random(len(ideal)) >= (0.003 if heavy else 0.0)
    return np.maximum.accumulate(times), arrived


def clock(bpm_then: float, pulses_then: int, bpm_now: float, pulses_now: int) -> np.ndarray:
    then, now = 60 / (bpm_then * 24), 60 / (bpm_now * 24)
    last_old = (pulses_then - 1) * then
    return 10.0 + np.concatenate([np.arange(pulses_then) * then, last_old + np.arange(1, pulses_now + 1) * now])


def follow(times, arrived):
    follower, readings = ClockTempo(), {}
    for k, t in enumerate(times):
        if arrived[k]:
            readings[k] = follower.pulse(t)
    return follower, readings


@pytest.mark.parametrize("seed", range(12))
def test_97_steady_then_140_within_half_a_bpm_two_beats_after_the_step(seed):
    times, arrived = jack_arrivals(clock(97.0, 144, 140.0, 96), seed)
    follower, readings = follow(times, arrived)
    steady = [readings[k] for k in range(96, 144) if k in readings]  # beats 4-6 of 97
    assert max(abs(r - 97.0) for r in steady) <= 0.5, steady
    first_fast = next(k for k in sorted(readings) if readings[k] and readings[k] > 110)
    assert first_fast - 143 <= 8, "the step was not seen within a third of a beat"
    followed = [readings[k] for k in range(143 + 48, 240) if k in readings]  # two beats after the step, on
    assert max(abs(r - 140.0) for r in followed) <= 0.5, followed
    assert follower.steps == 1  # re-seeded once, at the step; jitter, spikes and losses made no false steps


@pytest.mark.parametrize("bpm_then,bpm_now", [(140.0, 97.0), (120.0, 90.0), (60.0, 180.0)])
def test_other_steps_are_followed_too(bpm_then, bpm_now):
    times, arrived = jack_arrivals(clock(bpm_then, 96, bpm_now, 96), seed=7, heavy=False)
    _, readings = follow(times, arrived)
    assert readings[95] == pytest.approx(bpm_then, abs=0.5)
    assert all(abs(readings[k] - bpm_now) <= 0.5 for k in range(95 + 48, 192))


def test_a_lost_pulse_and_late_bursts_are_not_steps():
    ideal = clock(120.0, 192, 120.0, 0)
    times = ideal.copy()
    times[60:66] = ideal[65] + np.linspace(0, 0.0005, 6)  # a stall: six pulses held back, then all at once
    for first, last in ((124, 127), (128, 130), (131, 145)):  # stalls one after another (JACK starved of CPU, as
        times[first:last + 1] = ideal[last] + np.linspace(0, 0.0005, last + 1 - first)  # seen), 300 ms the longest
    arrived = np.ones(len(times), bool)
    arrived[100] = False  # and one lost
    follower, readings = follow(times, arrived)
    assert follower.steps == 0
    assert all(abs(readings[k] - 120.0) <= 0.1 for k in range(110, 124) if k in readings)
    assert all(abs(readings[k] - 120.0) <= 0.5 for k in range(145, 192))


def test_phase_jumps_of_a_real_jack_server_do_not_tilt_the_reading():
    """When a JACK cycle runs late the dummy server re-anchors its clock: every later pulse arrives shifted by the
    delay (4-6 periods seen with jack_midi_clock). Pulses stamped at the start of their JACK cycle, 140 BPM, two
    such jumps and a lost pulse: the reading stays within 0.5 BPM and no step is called."""
    ideal = clock(140.0, 480, 140.0, 0)
    anchor = np.zeros(len(ideal))
    anchor[150:] += 3.96 * PERIOD
    anchor[155:] += 1.6 * PERIOD
    anchor[300:] += 5.1 * PERIOD
    times = np.ceil((ideal - ideal[0]) / PERIOD) * PERIOD + ideal[0] + anchor
    arrived = np.ones(len(times), bool)
    arrived[220] = False
    follower, readings = follow(times, arrived)
    assert follower.steps == 0
    assert max(abs(readings[k] - 140.0) for k in range(48, 480) if k in readings) <= 0.5


def test_clock_times_come_from_rtmidi_deltas_not_from_when_they_are_read():
    """The reader stamps messages by rtmidi's deltas (measured by the MIDI system as they came in): pulses read
    in bursts, late, keep their own spacing; the sum never runs ahead of the clock it is read by."""
    midi = MidiInput(apis=())  # no MIDI system: only the stamping is used
    period = 60 / (97 * 24)
    came_in = 100.0 + np.arange(48) * period
    for batch in range(6):  # read eight at a time, each batch 30 ms after its last pulse came in
        midi._receive([([0xF8], 0.0 if k == 0 else period) for k in range(batch * 8, batch * 8 + 8)],
                      came_in[batch * 8 + 7] + 0.03)
    stamps = np.array([e.timestamp for e in midi.drain()])
    assert len(stamps) == 48 and np.allclose(np.diff(stamps), period)
    assert stamps[-1] <= came_in[-1] + 0.03


@pytest.mark.parametrize("name", ["cpu1", "cpu3", "cpu5"])
def test_real_captures_from_a_starved_jack_server(name):
    """Pulse times recorded on the JACK dummy server with the machine's CPUs saturated (stalls up to 613 ms, a few
    pulses lost, one stall right at the step, one of 613 ms near the end): 97 ± 0.5 before the step, 140 ± 0.5 from
    two beats after it."""
    import json
    from pathlib import Path

    times = np.array(json.loads(Path(__file__).with_name("clock_captures.json").read_text())["captures"][name])
    follower = ClockTempo()
    readings = [follower.pulse(t) for t in times]
    lost = 240 - len(times)
    assert all(abs(r - 97.0) <= 0.5 for r in readings[96 - lost:140 - lost])
    assert all(abs(r - 140.0) <= 0.5 for r in readings[-49:])
    assert follower.steps == 1


@pytest.mark.parametrize("name", ["idle", "idle-b", "busy", "rt-busy", "rt-jumps"])
def test_real_jack_midi_clock_captures(name):
    """jack_midi_clock on the JACK dummy server through 97, 140, 61.5 and 174 BPM (recorded with tests/jack_clock.py):
    from two beats after each change (four after the start) the reading stays within 0.5 BPM, each change caught
    within 1.5 s. The old follower read 121.8 at 140 on 'idle' (a phase jump of the server's clock taken for a
    step). Two stretches where the pulses themselves did not keep the tempo are allowed 0.6: 'busy' starts as
    three CPU-bound processes start with it; 'idle-b' ends with its pulses running at 173.5 (a plain line through
    them reads the same). 'rt-busy' (a realtime server beside other work) holds 0.5 throughout. 'rt-jumps' (a realtime
    server whose cycle clock jumped late by 0.38, 0.46 and 0.25 of a cycle at 174 BPM, each jump inside the band
    of a pulse's phase): the follower before the grid-phase segments read 173.37 there (94.3 % within 0.5)."""
    import json
    from pathlib import Path

    from jack_clock import follow

    capture = json.loads(Path(__file__).with_name("clock_captures.json").read_text())["jack_midi_clock"][name]
    rows = follow(capture)
    assert [row["bpm"] for row in rows] == [97.0, 140.0, 61.5, 174.0]
    for row in rows:
        assert row["caught"] <= 1.5 and row["max_error"] <= 0.6 and row["within"] >= 97.0, row
    if name in ("idle", "rt-busy", "rt-jumps"):
        assert all(row["within"] == 100.0 and row["max_error"] <= 0.5 for row in rows), rows
