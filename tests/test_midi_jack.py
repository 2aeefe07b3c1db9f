"""MIDI input on a real JACK server with a virtual output: notes, CCs, clock tempo, transport, hot-plug.

Needs jackd (the dummy driver is enough); .ci/run starts one. Skips with the reason otherwise.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from core.devices.midi import MidiInput
from virtual_midi import VirtualOutput
from core.devices.midi_messages import control_change, note_off, note_on
from core.devices.tempo import Transport
from midi_services import connect, require_jack, wait_for

pytestmark = pytest.mark.jack


@pytest.fixture
def midi_pair():
    require_jack()
    name = f"loa-test-out-{uuid.uuid4().hex[:8]}"  # a port of an earlier test may linger a moment
    out = VirtualOutput(name, client_name="loa-test-sender")
    midi = MidiInput(client_name="loa-test-in")
    assert midi.available, midi.status
    assert midi.open(name), midi.status
    connect(out, midi)
    yield out, midi
    midi.close()
    out.close()


def drain_until(midi, count, timeout=3.0):
    events = []
    wait_for(lambda: (events.extend(midi.drain()) or len(events) >= count), timeout)
    return events


def test_notes_and_ccs_arrive_parsed(midi_pair):
    out, midi = midi_pair
    assert midi.api in ("alsa", "jack") and midi.port in midi.status
    out.send(note_on(36, 100))
    out.send(control_change(7, 64, channel=1))
    out.send(note_off(36))
    events = drain_until(midi, 3)
    assert [(e.kind, e.number, e.value) for e in events] == [("note_on", 36, 100), ("cc", 7, 64), ("note_off", 36, 0)]
    assert events[1].channel == 1


def test_clock_at_97_then_140_and_transport():
    """A clock from another process (like a DAW): 97.0 BPM read within 0.5; two beats after a change to 140 and
    from then on, 140 within 0.5; Start/Stop/Song Position/Continue drive the transport."""
    require_jack()
    name = f"loa-clock-{uuid.uuid4().hex[:8]}"
    sender = subprocess.Popen([sys.executable, str(Path(__file__).with_name("midi_sender.py")), name,
                               "97:144", "140:96"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    midi = MidiInput(client_name="loa-test-in")
    try:
        assert sender.stdout.readline().strip() == "ready"
        assert midi.open(name), midi.status
        assert wait_for(lambda: any(e.kind == "cc" for e in midi.drain()), timeout=5), "no probe arrived"
        sender.stdin.write("go\n")
        sender.stdin.flush()
        transport, actions, readings = Transport(), [], []
        deadline = time.monotonic() + 30
        while sender.poll() is None and time.monotonic() < deadline:
            for event in midi.drain():
                if event.kind == "cc":
                    continue
                action = transport.handle(event)
                if action:
                    actions.append(action)
                if event.kind == "clock":
                    readings.append((event.timestamp, transport.bpm))
            time.sleep(0.005)
        for event in midi.drain():
            action = transport.handle(event)
            if action:
                actions.append(action)
    finally:
        midi.close()
        sender.kill()
        sender.wait()
    # The reader takes rtmidi's queue without holding up JACK's thread, so a busy test process loses no pulse. (On
    # a machine whose CPUs are saturated, the non-realtime dummy server still skips a starved client's cycle now
    # and then, sender's or receiver's, and its pulses are gone: the follower counts the gap.)
    assert len(readings) >= 0.95 * 240, f"only {len(readings)} of 240 clock pulses arrived"
    slow, fast = 60 / (97 * 24), 60 / (140 * 24)
    start = readings[0][0]
    step = start + 143 * slow  # the last pulse at 97: the next interval is 140's
    steady = [bpm for t, bpm in readings if start + 96 * slow <= t < step - slow / 2]  # beats 4 to 6 of 97
    assert len(steady) >= 40 and all(bpm == pytest.approx(97.0, abs=0.5) for bpm in steady), steady
    seen = next(t for t, bpm in readings if bpm and bpm > 110)
    assert seen - step <= 8 * fast + 0.01, "the change was not seen within a third of a beat"
    after = [bpm for t, bpm in readings if t >= step + 47.5 * fast]  # two beats after the change, and on
    assert len(after) >= 40 and all(bpm == pytest.approx(140.0, abs=0.5) for bpm in after), after
    assert actions == ["start", "stop", "position", "continue"], actions
    assert transport.state.playing and transport.state.beats == pytest.approx(8.0)


def test_port_unplugged_and_back(midi_pair):
    out, midi = midi_pair
    out.close()
    assert wait_for(lambda: midi.check() or midi.port is None)
    assert "disconnected" in midi.status
    again = VirtualOutput(out.port_name, client_name="loa-test-sender")
    try:
        assert wait_for(lambda: (midi.check(), midi.port is not None)[1])
        connect(again, midi)  # messages flow again through the reopened port
        again.send(note_on(40, 1))
        assert [e.number for e in drain_until(midi, 1)] == [40]
    finally:
        again.close()


def test_no_midi_system_gives_a_status_not_a_crash(monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "loa-no-such-server")
    midi = MidiInput(apis=("alsa", "jack"))
    if midi.available and midi.api == "alsa":
        pytest.skip("this machine has an ALSA sequencer")
    assert not midi.available
    assert midi.status.startswith("No MIDI system:") and "JACK" in midi.status
    assert midi.ports() == [] and midi.open("anything") is False and midi.drain() == []
