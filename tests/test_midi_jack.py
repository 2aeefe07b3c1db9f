"""MIDI input on a real JACK server with a virtual output: notes, CCs, clock tempo, transport, hot-plug.

Needs jackd (the dummy driver is enough); .ci/run starts one. Skips with the reason otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from midi_services import connect, require_jack, wait_for
from virtual_midi import VirtualOutput

from core.devices.midi import MidiInput
from core.devices.midi_messages import control_change, note_off, note_on
from core.tempo.transport import Transport

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


@pytest.fixture
def controller_and_daw():
    """A pad controller's and a DAW's virtual outputs (real JACK ports) and one MidiInput, all closed after; a test
    that replugs the controller puts the new one in `.pads`."""
    require_jack()
    tag = uuid.uuid4().hex[:8]
    ports = SimpleNamespace(tag=tag, pads=VirtualOutput(f"loa-pads-{tag}", client_name="loa-test-controller"),
                            daw=VirtualOutput(f"loa-daw-{tag}", client_name="loa-test-daw"),
                            midi=MidiInput(client_name="loa-test-in"))
    yield ports
    ports.midi.close()
    ports.pads.close()
    ports.daw.close()


def test_two_inputs_at_once_notes_from_one_clock_from_the_other(controller_and_daw):
    """A controller's notes and a DAW's clock on two ports, both open at once: every event arrives, tagged with its
    port; unplugging the controller leaves the DAW's port open, and the controller reopens when it is back."""
    pads, daw, midi = controller_and_daw.pads, controller_and_daw.daw, controller_and_daw.midi
    assert midi.open_many([pads.port_name, daw.port_name]) and len(midi.open_ports) == 2, midi.status
    assert pads.port_name in midi.status and daw.port_name in midi.status
    connect(pads, midi)
    connect(daw, midi)
    for k in range(48):
        daw.send([0xF8])
        if k % 12 == 0:
            pads.send(note_on(36 + k // 12, 100))
        time.sleep(0.005)
    events = drain_until(midi, 52)
    clock = [e for e in events if e.kind == "clock"]
    notes = [e for e in events if e.kind == "note_on"]
    assert len(clock) == 48 and {e.source for e in clock} == {midi.open_ports[1]}
    assert [e.number for e in notes] == [36, 37, 38, 39] and {e.source for e in notes} == {midi.open_ports[0]}
    assert daw.port_name in clock[0].source and pads.port_name in notes[0].source

    pads.close()
    assert wait_for(lambda: (midi.check(), len(midi.open_ports) == 1)[1])
    assert "disconnected" in midi.status and daw.port_name in midi.open_ports[0]
    daw.send(note_on(50, 1))
    assert [e.number for e in drain_until(midi, 1)] == [50]  # the other input goes on
    pads = controller_and_daw.pads = VirtualOutput(f"loa-pads-{controller_and_daw.tag}",
                                                   client_name="loa-test-controller")
    assert wait_for(lambda: (midi.check(), len(midi.open_ports) == 2)[1])
    connect(pads, midi)
    pads.send(note_on(40, 1))
    assert [e.number for e in drain_until(midi, 1)] == [40]


def test_ticking_a_second_input_leaves_the_first_open_and_loses_none_of_its_clock(controller_and_daw):
    """Choosing the DAW's port beside the controller's must not reopen the controller's: a reopen is a gap in which
    its pulses are lost (and, on JACK, a port unregistered moments after it was registered)."""
    pads, daw, midi = controller_and_daw.pads, controller_and_daw.daw, controller_and_daw.midi
    assert midi.open_many([pads.port_name]), midi.status
    connect(pads, midi)
    first = midi._open[midi.open_ports[0]].client
    for k in range(48):
        pads.send([0xF8])
        if k == 24:  # mid-stream, as a user ticks the second input
            assert len(midi.open_many([pads.port_name, daw.port_name])) == 2, midi.status
        time.sleep(0.002)
    assert midi._open[midi.open_ports[0]].client is first
    assert len([e for e in drain_until(midi, 48) if e.kind == "clock"]) == 48
    assert midi.open_many([daw.port_name]) == [midi.open_ports[0]] and daw.port_name in midi.open_ports[0]


def test_no_midi_system_gives_a_status_not_a_crash(monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "loa-no-such-server")
    midi = MidiInput(apis=("alsa", "jack"))
    if midi.available and midi.api == "alsa":
        pytest.skip("this machine has an ALSA sequencer")
    assert not midi.available
    assert midi.status.startswith("No MIDI system:") and "JACK" in midi.status
    assert midi.ports() == [] and midi.open("anything") is False and midi.drain() == []


def test_jack_midi_clock_tempo_table():
    """jack_midi_clock itself (Debian jack-midi-clock) through JACK into our MIDI input, tempo set by jack_transport
    as timebase master: 97, 140, 61.5, 174 BPM. From two beats after each change (four after the start) every
    reading is within 0.5 BPM of the tempo set, and each change is caught within 1.5 s.

    It runs on a JACK dummy server of its own with realtime scheduling (tests/jack_clock.py private_server): the
    shared non-realtime server's cycles run late on a loaded machine and its pulses themselves leave the tempo
    (94.8 for 97 at load 11), where a realtime one keeps it beside other work. Even so the server now and then
    starts a cycle late and never catches up (a phase jump of a fraction of a cycle, 0.25-0.46 seen): the follower
    must not read those as tempo. Measured with this test's recording (3 runs each, realtime server, two busy
    loops beside it, load average 8.7; % of readings within 0.5 BPM / largest error / seconds to lock):
        97 BPM   100 / 100 / 100 %   0.17 / 0.02 / 0.02    0.13-0.14 s
        140 BPM  100 / 100 / 100 %   0.25 / 0.05 / 0.05    0.45-0.48 s
        61.5 BPM 100 / 100 / 100 %   0.01 / 0.01 / 0.01    0.24-0.26 s
        174 BPM  100 / 100 / 100 %   0.08 / 0.15 / 0.11    0.18-0.20 s
    Before the grid-phase fix, 174 read 94.3 % within 0.5 (down to 173.37 after two small phase jumps).
    A miss while the pulses kept the tempo fails at once; a miss while they ran off it by more than 0.3 BPM is tried
    again (three runs). Where realtime scheduling is not allowed (a private non-realtime server) or no server of our
    own starts (the shared one is used), three runs whose pulses did not keep time skip locally, fail under CI=true."""
    from audio_services import service_missing
    from jack_clock import available, follow, private_server, record, record_in_a_process

    if not available() or shutil.which("jackd") is None:
        service_missing("jackd/jack_midi_clock/jack_transport not installed (apt install jack-midi-clock jackd2)")
    with private_server() as mode:
        for attempt in range(3):
            segments = [(97.0, 4.0), (140.0, 4.0), (61.5, 5.0), (174.0, 4.0)]
            rows = follow(record_in_a_process(segments) if mode != "shared" else record(segments))
            for row in rows:
                print(mode, attempt, row)
            assert [row["bpm"] for row in rows] == [97.0, 140.0, 61.5, 174.0]
            if all(row["within"] == 100.0 and row["max_error"] <= 0.5 and row["caught"] <= 1.5 for row in rows):
                return
            sender_off = [row for row in rows if not abs(row["sent_bpm"] - row["bpm"]) <= 0.3]
            assert sender_off, f"the pulses kept the tempo set, the follower did not: {rows}"
    figures = ", ".join(f"{row['sent_bpm']:.1f} for {row['bpm']:g}" for row in rows)
    if mode == "realtime":
        pytest.fail(f"three runs on a realtime JACK server whose pulses left the tempo, and the follower with them: {rows}")
    service_missing(f"no realtime JACK server ({mode}: see the printed lines) and the server did not keep time: {figures}")
