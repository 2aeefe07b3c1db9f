"""The window played from a real MIDI controller: a virtual output on a JACK server sends notes, CCs and transport,
and the pads' sound is recorded back from the PulseAudio null sink's monitor.

Needs jackd (dummy driver) and PulseAudio with a null sink: .ci/run starts both. Skips with the reason otherwise.
"""

from __future__ import annotations

import threading
import uuid

import numpy as np
import pytest
from audio_services import require_pulse
from midi_services import require_jack
from PySide6.QtWidgets import QApplication
from virtual_midi import VirtualOutput

from core.audio.clip import Clip
from core.devices.midi_messages import control_change, note_off, note_on

pytestmark = [pytest.mark.audio, pytest.mark.jack]
RATE = 48_000
QUIET = 0.2  # seconds of silence on the sink before a test acts


def tone(seconds, amplitude=0.5, freq=1000.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return Clip((amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32), RATE)


@pytest.fixture
def rig(qtbot):
    """A window listening to a fresh virtual MIDI output, with pads that can play on the null sink."""
    require_jack()
    require_pulse()
    from studio.shell.main_window import MainWindow
    from studio.shell.settings import StudioSettings

    name = f"loa-pads-{uuid.uuid4().hex[:8]}"
    out = VirtualOutput(name, client_name="loa-test-controller")
    window = MainWindow(settings=StudioSettings())
    window.show()
    c = window.midi.controller
    assert c.choose_input(name), c.status
    # The JACK connection settles within a cycle or two: learn a probe CC until one comes through, then forget it.
    c.start_learning("tap_tempo")

    def probe_arrived():
        out.send([0xBF, 127, 0])
        qtbot.wait(20)
        return "tap_tempo" in c.mapping.bindings

    qtbot.waitUntil(probe_arrived, timeout=5000)
    c.clear_mapping("tap_tempo")
    yield window, c, out, qtbot
    window.auditioner.stop()
    window.close()
    window.deleteLater()
    QApplication.processEvents()
    out.close()


def record_while(qtbot, seconds, act):
    """Record the null sink's monitor while `act()` runs on the GUI thread (the event loop keeps draining MIDI):
    `act` starts once the recording delivers audio and the sink has been silent for QUIET seconds, then the
    recording runs `seconds` more. Returns what was heard from the moment `act` began.

    The silence first: a sound an earlier test left playing on the shared null sink would otherwise be counted as
    this test's (a take's loud span once read 2.79 s where its player had stopped after 0.4 s). A sink that does
    not fall silent fails here, naming the streams still on it."""
    import subprocess

    from core.devices.playback import backend, resolve_device

    sd = backend()
    chunks, started = [], threading.Event()

    def callback(indata, frames, time_info, status):
        chunks.append(indata[:, 0].copy())
        started.set()

    def quiet() -> bool:
        tail = np.concatenate(chunks[-50:]) if chunks else np.zeros(0)
        return len(tail) >= QUIET * RATE and np.abs(tail[-int(QUIET * RATE):]).max() < 0.01

    stream = sd.InputStream(samplerate=RATE, channels=1, dtype="float32", callback=callback,
                            device=resolve_device(None, output=False).index)
    stream.start()
    try:
        qtbot.waitUntil(started.is_set, timeout=5000)
        try:
            qtbot.waitUntil(quiet, timeout=10_000)
        except Exception:
            streams = subprocess.run(["pactl", "list", "sink-inputs", "short"], capture_output=True, text=True)
            pytest.fail(f"the null sink is not silent before the test acts; streams on it: {streams.stdout!r}")
        before = len(chunks)
        act()
        qtbot.wait(int(seconds * 1000))
    finally:
        stream.stop()
        stream.close()
    return np.concatenate(chunks[before:])


def tone_envelope(heard, freq, window=0.01):
    """The amplitude of `freq` in each `window`-second frame of `heard` (a sine of amplitude A reads A)."""
    size = int(window * RATE)
    frames = heard[:len(heard) // size * size].reshape(-1, size)
    t = np.arange(size) / RATE
    return 2 * np.abs(frames @ np.exp(-2j * np.pi * freq * t)) / size


def test_note_on_plays_the_mapped_pad_and_velocity_scales_it(rig):
    window, c, out, qtbot = rig
    c.assign_pad(0, tone(0.4), "tone")
    loud = record_while(qtbot, 1.2, lambda: out.send(note_on(36, 127)))
    qtbot.waitUntil(lambda: not c.player.playing, timeout=10_000)  # the pad's tone has ended
    soft = record_while(qtbot, 1.2, lambda: out.send(note_on(36, 64)))
    qtbot.waitUntil(lambda: not c.player.playing, timeout=10_000)
    other = record_while(qtbot, 1.0, lambda: out.send(note_on(37, 127)))  # pad 2 is empty
    assert np.abs(loud).max() == pytest.approx(0.5, abs=0.05)
    assert np.abs(soft).max() / np.abs(loud).max() == pytest.approx((64 / 127) ** 2, rel=0.1)
    assert np.abs(other).max() < 0.01
    spectrum = np.abs(np.fft.rfft(loud * np.hanning(len(loud))))
    assert np.argmax(spectrum) * RATE / len(loud) == pytest.approx(1000, abs=5)


def test_note_off_stops_a_gate_pad(rig):
    window, c, out, qtbot = rig
    c.assign_pad(1, tone(2.0), "long tone")
    c.set_pad_mode(1, "gate")

    def press_and_release():
        out.send(note_on(37, 127))
        qtbot.wait(300)
        out.send(note_off(37))

    heard = record_while(qtbot, 1.5, press_and_release)
    loud = np.flatnonzero(np.abs(heard) > 0.05)
    assert len(loud) and (loud[-1] - loud[0]) / RATE == pytest.approx(0.3, abs=0.12)  # not the 2 s of the clip


def test_learned_note_and_cc_fire_their_actions(rig):
    window, c, out, qtbot = rig
    from studio.shell.clip_entry import ClipEntry

    entries = [ClipEntry(clip=tone(0.3, 0.2, f), prompt=f"tone {f}", mode="sound", model="tiny", licence="MIT",
                         seed=1, score=0.5) for f in (500.0, 700.0)]
    window.candidates.show_entries(entries)
    c.start_learning("next_take")
    out.send(note_on(70, 100))
    qtbot.waitUntil(lambda: "next_take" in c.mapping.bindings, timeout=10_000)
    c.start_learning("output_gain")
    out.send(control_change(21, 10))
    qtbot.waitUntil(lambda: "output_gain" in c.mapping.bindings, timeout=10_000)

    out.send(note_on(70, 100))
    qtbot.waitUntil(lambda: window.candidates.current_index == 1, timeout=10_000)
    window.auditioner.stop()
    c.assign_pad(0, tone(0.4), "tone")
    out.send(control_change(21, 0))
    qtbot.waitUntil(lambda: c.player.output_gain == 0.0, timeout=10_000)
    silent = record_while(qtbot, 1.0, lambda: out.send(note_on(36, 127)))
    out.send(control_change(21, 127))
    qtbot.waitUntil(lambda: c.player.output_gain == 1.0, timeout=10_000)
    qtbot.waitUntil(lambda: not c.player.playing, timeout=10_000)  # the silent note's pad has ended
    heard = record_while(qtbot, 1.0, lambda: out.send(note_on(36, 127)))
    assert np.abs(silent).max() < 0.01 and np.abs(heard).max() == pytest.approx(0.5, abs=0.05)


def test_daw_start_and_stop_drive_playback(rig):
    """MIDI Start plays the shown take, Stop stops it: what the sink's monitor heard of the take (its own 800 Hz,
    from the moment Start was sent) lasts well under its 3 s and is gone for the last 0.8 s of the recording."""
    window, c, out, qtbot = rig
    from studio.shell.clip_entry import ClipEntry

    entry = ClipEntry(clip=tone(3.0, 0.4, 800.0), prompt="take", mode="sound", model="tiny", licence="MIT", seed=1,
                      score=0.5)
    window.candidates.show_entries([entry])
    window.show_entry(entry)

    def start_then_stop():
        out.send([0xFA])  # Start
        qtbot.waitUntil(lambda: window.auditioner.is_playing, timeout=10_000)
        qtbot.wait(400)
        out.send([0xFC])  # Stop
        qtbot.waitUntil(lambda: not window.auditioner.is_playing, timeout=10_000)

    heard = record_while(qtbot, 1.8, start_then_stop)
    take = tone_envelope(heard, 800.0)
    sounding = np.flatnonzero(take > 0.05)
    assert take.max() == pytest.approx(0.4, abs=0.06)
    assert (sounding[-1] - sounding[0]) * 0.01 < 1.5, take  # stopped well before the take's 3 s
    assert take[-80:].max() < 0.01  # and stayed stopped


def test_a_learned_note_starts_and_stops_a_recording(rig):
    """Learn "Record" on a pad's note, then that note records from the input (the null sink's monitor here)
    and the same note again stops: the take lands in the library."""
    window, c, out, qtbot = rig
    window.settings.count_in_mode = "off"
    c.start_learning("record")
    out.send(note_on(72, 100))
    qtbot.waitUntil(lambda: "record" in c.mapping.bindings, timeout=10_000)
    recorder = window.recording.controller
    assert recorder.state == "idle"
    finished, said = [], []
    recorder.take_finished.connect(lambda take, punch: finished.append(take))
    recorder.status.connect(said.append)
    elapsed = []
    recorder.elapsed.connect(elapsed.append)
    out.send(note_on(72, 100))
    qtbot.waitUntil(lambda: recorder.state == "recording", timeout=5000)
    qtbot.waitUntil(lambda: bool(elapsed) and elapsed[-1] >= 0.6, timeout=10_000)  # audio is coming in
    out.send(note_on(72, 100))
    qtbot.waitUntil(lambda: recorder.state == "idle", timeout=5000)
    assert len(finished) == 1, said
    assert finished[0].seconds >= 0.5
    [item] = window.library.search(mode="recording")
    assert item.prompt.startswith("Take") and window.selected_entry().library_id == item.id
