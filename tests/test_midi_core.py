"""MIDI without a MIDI system: parsing, clock tempo, tap tempo, transport, learn, pads (core, no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from core.devices.midi_learn import MidiMap
from core.devices.midi_messages import MidiEvent, control_change, note_off, note_on, parse_message, song_position
from core.devices.pads import PAD_KEYS, PadBank, pad_for_key, velocity_gain
from core.errors import InputError
from core.tempo.bars import check_bpm
from core.tempo.clock import ClockTempo
from core.tempo.transport import TapTempo, Transport


def test_parse_channel_and_realtime_messages():
    on = parse_message(note_on(36, 100, channel=9), 1.5)
    assert (on.kind, on.channel, on.number, on.value, on.timestamp) == ("note_on", 9, 36, 100, 1.5)
    assert parse_message([0x90, 36, 0]).kind == "note_off"  # running-status senders
    assert parse_message(note_off(40)).kind == "note_off"
    cc = parse_message(control_change(7, 99, channel=2))
    assert (cc.kind, cc.channel, cc.number, cc.value) == ("cc", 2, 7, 99)
    assert [parse_message([b]).kind for b in (0xF8, 0xFA, 0xFB, 0xFC)] == ["clock", "start", "continue", "stop"]
    spp = parse_message(song_position(300))
    assert (spp.kind, spp.value) == ("song_position", 300)
    assert parse_message([0xFE]) is None and parse_message([0xF0, 1, 2, 0xF7]) is None and parse_message([]) is None
    assert on.describe() == "note 36 (C1, ch 10)"


def clock_times(bpm, pulses, start=0.0, jitter_period=256 / 48000, rng=None):
    """Pulse arrival times as JACK delivers them: rounded up to the next period, plus scheduling noise."""
    rng = rng or np.random.default_rng(0)
    ideal = start + np.arange(pulses) * 60.0 / (bpm * 24)
    sent = ideal + rng.uniform(0, 0.002, pulses)
    return np.ceil(sent / jitter_period) * jitter_period


def test_clock_tempo_reads_a_jittery_97_bpm_within_half_a_bpm():
    follower = ClockTempo()
    for t in clock_times(97.0, 24 * 8):
        follower.pulse(t)
    assert follower.bpm == pytest.approx(97.0, abs=0.5)


def test_clock_tempo_follows_a_change_to_140_within_two_beats():
    follower = ClockTempo()
    first = clock_times(97.0, 24 * 8)
    for t in first:
        follower.pulse(t)
    second = clock_times(140.0, 48, start=first[-1] + 60 / (140 * 24), rng=np.random.default_rng(1))
    for t in second:
        follower.pulse(t)
    assert follower.bpm == pytest.approx(140.0, abs=0.5)


def test_clock_tempo_drops_outliers_and_missed_pulses():
    times = list(clock_times(120.0, 24 * 6))
    times[50] += 0.009  # a pulse delayed by a busy system
    del times[80]  # a pulse lost
    times[100] = times[101] - 0.0001  # a stalled sender: one pulse late, the next right behind it
    follower = ClockTempo()
    for t in times:
        follower.pulse(t)
    assert follower.bpm == pytest.approx(120.0, abs=0.5)


def test_clock_restarts_after_a_pause():
    follower = ClockTempo()
    for t in clock_times(100.0, 96):
        follower.pulse(t)
    assert not follower.is_running(now=100.0)
    for t in clock_times(150.0, 96, start=50.0):
        follower.pulse(t)
    assert follower.bpm == pytest.approx(150.0, abs=0.5)


def test_tap_tempo():
    tap = TapTempo()
    assert tap.tap(0.0) is None
    for i, t in enumerate([0.5, 1.0, 1.5, 2.0]):
        bpm = tap.tap(t)
    assert bpm == pytest.approx(120.0)
    assert tap.tap(10.0) is None  # a long pause starts a new count
    with pytest.raises(InputError, match="tempo must be"):
        check_bpm(0)


def test_transport_start_stop_continue_and_song_position():
    transport = Transport()
    assert transport.handle(MidiEvent("start")) == "start" and transport.state.playing
    for i in range(48):
        transport.handle(MidiEvent("clock", timestamp=i * 0.02))
    assert transport.state.beats == pytest.approx(2.0)
    assert transport.handle(MidiEvent("stop")) == "stop" and not transport.state.playing
    assert transport.handle(parse_message(song_position(16))) == "position"
    assert transport.state.beats == pytest.approx(4.0)  # 16 sixteenths
    assert transport.state.seconds(120.0) == pytest.approx(2.0)
    assert transport.handle(MidiEvent("continue")) == "continue" and transport.state.playing
    assert transport.state.beats == pytest.approx(4.0)


def test_midi_learn_binds_reports_conflicts_and_persists():
    bank = PadBank()
    mapping = MidiMap(pad_note=lambda n, c: bank.pad_for_note(n, c))
    mapping.start_learning("generate")
    result = mapping.learn(parse_message(note_on(60, 90)))
    assert result.conflict is None and mapping.learning is None
    assert mapping.action_for(parse_message(note_on(60, 10))) == ("generate", None)
    assert mapping.action_for(parse_message(note_off(60))) is None

    mapping.start_learning("keep")
    moved = mapping.learn(parse_message(note_on(60, 90)))
    assert "Generate" in moved.conflict and "generate" not in mapping.bindings

    mapping.start_learning("play_stop")
    clash = mapping.learn(parse_message(note_on(36, 90)))
    assert "pad 1" in clash.conflict

    mapping.start_learning("output_gain")
    assert "needs a knob" in mapping.learn(parse_message(note_on(50, 90))).conflict
    mapping.learn(parse_message(control_change(7, 3)))
    assert mapping.action_for(parse_message(control_change(7, 64))) == ("output_gain", 64)

    restored = MidiMap.from_json(mapping.to_json())
    assert restored.bindings == mapping.bindings
    restored.clear("keep")
    assert "keep" not in restored.bindings
    restored.clear()
    assert restored.bindings == {}
    assert MidiMap.from_json("not json").bindings == {}


def test_pad_bank_notes_keys_velocity_and_banks():
    bank = PadBank()
    assert bank.pad_for_note(36) == 0 and bank.pad_for_note(51) == 15 and bank.pad_for_note(52) is None
    assert len(PAD_KEYS) == 16 and pad_for_key("1") == 0 and pad_for_key("q") == 4 and pad_for_key("v") == 15
    assert pad_for_key("p") is None
    assert velocity_gain(127) == pytest.approx(1.0) and velocity_gain(0) == 0.0
    assert velocity_gain(64) == pytest.approx((64 / 127) ** 2)
    assert bank.bank_for_cc(127) == 3 and bank.bank_for_cc(0) == 0
    bank.channel = 9
    assert bank.pad_for_note(36, channel=0) is None and bank.pad_for_note(36, channel=9) == 0
