"""Audio tier for recording: a PulseAudio null sink (.ci/run starts it; its monitor is the default input).
A tone played into the sink is recorded back by the core recorder and by the window (into the library, with the
level meter showing it); a recording process killed with SIGKILL leaves its take readable up to the last
second; a sound server that dies mid-take ends the take with a status line and keeps what was recorded.
Skips cleanly where no PulseAudio server answers."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from audio_services import require_pulse, service_missing
from PySide6.QtCore import Qt

from core.audio.clip import Clip
from core.devices.meter import to_db
from core.devices.playback import Player
from core.devices.takes import pending_takes

pytestmark = pytest.mark.audio
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def pulse():
    require_pulse()


def tone(freq=1000.0, seconds=3.0, rate=48_000, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return Clip((amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)


def dominant_frequency(samples, rate):
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.argmax(spectrum) * rate / len(samples)


def loud_part(samples, threshold=0.05):
    return samples[np.abs(samples) > threshold]


def tone_span(samples, threshold=0.05):
    """The stretch from the first to the last loud sample (where the played tone is), contiguous."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    assert len(loud), "no tone was recorded"
    return samples[loud[0]:loud[-1] + 1]


def test_the_recorder_records_a_tone_played_into_the_null_sink_and_meters_it(pulse, tmp_path):
    from core.devices.recording import Recorder

    player = Player()
    recorder = Recorder(folder=tmp_path)
    device = recorder.start()
    try:
        player.play(tone(seconds=2.0))
        reading = recorder.drain_until(1.2)
    finally:
        player.stop()
        take = recorder.stop()
    assert take.device == device.label and take.sample_rate == 48_000 and take.fault == ""
    assert take.seconds >= 1.2
    heard = take.clip.samples[:, 0]
    assert len(loud_part(heard)) > 0.5 * len(heard)
    assert dominant_frequency(tone_span(heard), 48_000) == pytest.approx(1000, abs=3)
    assert np.abs(heard).max() == pytest.approx(0.5, abs=0.05)
    assert reading.hold_db[0] == pytest.approx(to_db(0.5), abs=0.5)  # the meter saw the tone's peak
    assert not reading.any_clipped
    np.testing.assert_array_equal(Clip(take.clip.samples, 48_000).samples, pending_takes(tmp_path)[0].load().samples)


def test_stopping_playback_while_recording_never_hangs_nor_breaks_portaudio(pulse, tmp_path):
    """Play, record beside it, stop, re-scan the devices (as the next test's fixture does), four times. When the
    player aborted its stream from another thread under a blocked write, the second round's stop() hung for
    2 s and the process then died of a corrupted heap ("malloc(): unaligned fastbin chunk detected")."""
    from core.devices.playback import refresh_devices, wait_for_writers
    from core.devices.recording import Recorder

    for round_ in range(4):
        player, recorder = Player(), Recorder(folder=tmp_path / str(round_))
        recorder.start()
        try:
            player.play(tone(seconds=2.0))
            recorder.drain_until(0.6)
            started = time.monotonic()
            player.stop()
            assert time.monotonic() - started < 0.1, f"round {round_}: stop() waited"
        finally:
            player.stop()
            recorder.stop()
        assert wait_for_writers(1.0), f"round {round_}: the writer did not close its stream"
        refresh_devices()


def test_a_stop_whose_driver_hangs_in_abort_returns_the_take_within_the_close_wait(pulse, tmp_path):
    """The real stream's abort is made to block, as an ALSA plugin waiting on a dead server does."""
    from core.devices import stream_close
    from core.devices.recording import Recorder

    recorder = Recorder(folder=tmp_path)
    recorder.start()
    recorder.drain_until(0.5)
    stream, release = recorder._stream, threading.Event()
    real_abort = stream.abort
    stream.abort = lambda ignore_errors=True: (release.wait(), real_abort(ignore_errors=ignore_errors))
    threading.Timer(10, release.set).start()  # a stop that waited on the driver ends too, and fails below
    started = time.monotonic()
    try:
        take = recorder.stop()
        took = time.monotonic() - started
    finally:
        release.set()
    assert took < stream_close.CLOSE_WAIT_SECONDS + 1.0
    assert take.seconds >= 0.5 and take.fault == ""
    assert pending_takes(tmp_path)[0].frames == take.clip.frames


RECORDING_PROCESS = """
import faulthandler
import sys
from pathlib import Path
faulthandler.dump_traceback_later(20, exit=True)  # a hang shows where it hangs (stderr), not just a timeout
from core.devices.recording import Recorder
recorder = Recorder(folder=Path(sys.argv[1]))
recorder.start()
print("recording", flush=True)
flushed = 0
while recorder.is_recording:
    recorder.drain_until(recorder.seconds + 0.05)
    if recorder.writer.flushed_frames != flushed:
        flushed = recorder.writer.flushed_frames
        print(f"flushed {flushed}", flush=True)
print("fault", recorder.fault, flush=True)
"""


def test_a_recording_process_killed_mid_take_leaves_the_take_readable_up_to_the_last_second(pulse, tmp_path):
    player = Player()
    proc = subprocess.Popen([sys.executable, "-c", RECORDING_PROCESS, str(tmp_path)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    flushed = 0
    try:
        assert proc.stdout.readline().strip() == "recording"
        player.play(tone(seconds=6.0))
        while flushed < 2.5 * 48_000:
            line = proc.stdout.readline()
            assert line.startswith("flushed"), f"the recording process said {line!r}"
            flushed = int(line.split()[1])
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        player.stop()
    assert proc.returncode == -signal.SIGKILL
    [take] = pending_takes(tmp_path)
    assert take.frames >= flushed >= 2.5 * 48_000 and take.sample_rate == 48_000
    heard = take.load().samples[:, 0]
    assert dominant_frequency(tone_span(heard), 48_000) == pytest.approx(1000, abs=3)
    assert len(loud_part(heard[-48_000:])) > 0.8 * 48_000  # the last second is there, and it is the tone


def test_a_sound_server_that_dies_mid_take_ends_it_with_a_status_line_and_keeps_the_audio(pulse, tmp_path):
    """A private PulseAudio server stands in for a USB microphone: killing it is the device going away."""
    if shutil.which("pulseaudio") is None:
        service_missing("pulseaudio is not installed")
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime))
    env.pop("PULSE_SERVER", None)
    server = subprocess.Popen(["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "-n",
                               "--load=module-native-protocol-unix",
                               "--load=module-null-sink sink_name=private rate=48000 channels=2"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        subprocess.run(["pactl", "set-default-source", "private.monitor"], env=env, check=True)
        proc = subprocess.Popen([sys.executable, "-c", RECORDING_PROCESS, str(tmp_path / "takes")], cwd=REPO,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "recording"
        while True:
            line = proc.stdout.readline()
            assert line.startswith("flushed"), line
            if int(line.split()[1]) >= 48_000:
                break
        server.kill()  # the input vanishes mid-take
        server.wait(10)
        out, err = proc.communicate(timeout=60)
        rest = out.splitlines()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    assert rest and rest[-1].startswith("fault "), f"the recording process ended with {rest[-1:]}:\n{err}"
    fault = rest[-1]
    assert fault.startswith("fault Recording stopped:") and "the take is kept" in fault
    assert proc.returncode == 0  # a status line, not a crash
    [take] = pending_takes(tmp_path / "takes")
    assert take.seconds >= 1.0 and take.note["fault"] == fault[len("fault "):]


# ---- the window ----------------------------------------------------------------------------------------

@pytest.fixture
def window(qtbot, pulse):
    from PySide6.QtWidgets import QApplication

    from studio.shell.main_window import MainWindow
    from studio.shell.settings import StudioSettings

    win = MainWindow(settings=StudioSettings())
    win.show()
    qtbot.waitExposed(win)
    QApplication.processEvents()  # start-up offers run now, with nothing pending
    yield win
    win.recording.controller.stop()
    win.auditioner.stop()
    if win.editor is not None:
        win.editor.controller.discard_edits()  # else closing asks about them
    win.close()
    win.deleteLater()
    QApplication.processEvents()


def test_in_the_window_a_played_tone_is_recorded_lands_in_the_library_and_the_meter_showed_it(window, qtbot):
    tools = window.recording
    levels = []
    tools.controller.level.connect(levels.append)
    player = Player()
    qtbot.mouseClick(tools.panel.record_button, Qt.MouseButton.LeftButton)
    assert tools.controller.state == "recording" and tools.panel.stop_button.isEnabled()
    assert window.statusBar().currentMessage().startswith("Recording take 1 from ")
    player.play(tone(seconds=3.0))
    qtbot.waitUntil(lambda: tools.controller.recorder is not None and tools.controller.recorder.seconds > 1.5,
                    timeout=5000)
    assert tools.panel.time_label.text().startswith("00:01.")
    assert tools.panel.take_label.text() == "Take 1"
    qtbot.mouseClick(tools.panel.stop_button, Qt.MouseButton.LeftButton)
    player.stop()

    [item] = window.library.search("Take 1")
    assert item.mode == "recording" and item.sample_rate == 48_000 and item.seconds >= 1.5
    assert item.model == item.settings["device"] and item.settings["recorded_at"]
    heard = item.load_clip().samples[:, 0]
    assert dominant_frequency(tone_span(heard), 48_000) == pytest.approx(1000, abs=3)
    assert window.selected_entry().library_id == item.id and window.waveform.clip().frames == len(heard)
    assert max(r.peak_db[0] for r in levels) == pytest.approx(to_db(0.5), abs=0.5)
    assert tools.panel.meter.reading().hold_db[0] == pytest.approx(to_db(0.5), abs=1.0)
    assert tools.panel.take_label.text() == "Next: take 2"
    assert pending_takes() == []


def test_in_the_window_punch_in_records_into_the_selection_and_stops_at_its_length(window, qtbot):
    from studio.shell.clip_entry import ClipEntry

    rate = 48_000
    base = Clip(np.zeros((2 * rate, 2), np.float32), rate)  # two seconds of silence
    item = window.library.add(base, prompt="room tone", mode="sound", model="tiny", licence="MIT", seed=1)
    window.show_entry(ClipEntry.from_library(item))
    window.waveform.set_selection(0.5, 1.25)
    player = Player()
    player.play(tone(seconds=4.0))
    try:
        # The tone must be on the sink when the punch-in starts: a null sink may hold a new stream back (up to
        # 2 s seen), so wait until its monitor carries it rather than a fixed 0.2 s.
        from core.devices.playback import record

        deadline = time.monotonic() + 5
        while np.abs(record(0.05).samples).max() < 0.25 and time.monotonic() < deadline:
            pass
        assert window.recording.record(into_selection=True)
        qtbot.waitUntil(lambda: window.recording.controller.state == "idle", timeout=5000)  # punched out
    finally:
        player.stop()
    editor = window.editor.controller  # the punch-in is an undoable edit of the clip in the editor
    assert editor.session.history()[-1].label == "Punch-in recording"
    assert window.selected_entry().settings["derived_from"] == item.id
    samples = editor.clip().samples[:, 0]
    assert len(samples) == 2 * rate
    assert not samples[:int(0.49 * rate)].any() and not samples[int(1.26 * rate):].any()  # outside: untouched
    inside = samples[int(0.52 * rate):int(1.23 * rate)]
    assert len(loud_part(inside)) > 0.9 * len(inside)
    assert dominant_frequency(inside, rate) == pytest.approx(1000, abs=3)
    editor.undo()
    assert not editor.clip().samples.any()  # back to the silence it was


def test_a_click_count_in_is_heard_on_the_output_before_the_take_starts(window, qtbot):
    from core.devices.playback import record

    settings = window.settings
    settings.count_in_mode, settings.count_in_beats, settings.count_in_tempo = "click", 4, 240.0  # 1 s
    controller = window.recording.controller
    states = []
    controller.state_changed.connect(states.append)
    window.recording.toggle()
    assert controller.state == "counting"
    heard = record(0.6, rate=48_000).samples[:, 0]  # the monitor hears the clicks while the window counts
    qtbot.waitUntil(lambda: controller.state == "recording", timeout=10_000)
    qtbot.waitUntil(lambda: controller.recorder is not None and controller.recorder.seconds > 0.3, timeout=10_000)
    window.recording.toggle()
    assert states[:3] == ["counting", "recording", "idle"]
    clicks = np.flatnonzero(np.abs(heard) > 0.1)
    assert len(clicks), "no click was heard during the count-in"
    onsets = clicks[np.insert(np.diff(clicks) > 2400, 0, True)]  # first sample of each click
    assert len(onsets) >= 2 and np.diff(onsets)[0] / 48_000 == pytest.approx(0.25, abs=0.01)  # 240 BPM
    [item] = window.library.search("Take 1")
    assert item.seconds > 0.3
