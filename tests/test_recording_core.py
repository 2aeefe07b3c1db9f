"""Recording core without a sound card: the ring buffer, the level meter, the streaming take writer (real files,
a real process killed with SIGKILL), pending-take recovery and the recorder's drain and fault handling driven
through its own callback. The audio tier (test_recording_audio.py) records a real PulseAudio null sink."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.devices.meter import CLIP_LEVEL, FLOOR_DB, LevelMeter, to_db
from core.devices.ringbuffer import RingBuffer
from core.devices.takes import TakeWriter, pending_takes, recordings_dir

REPO = Path(__file__).resolve().parents[1]


def ramp(frames, channels=2, start=0):
    values = np.arange(start, start + frames * channels, dtype=np.float32).reshape(frames, channels)
    return values / 1e6


# ---- ring buffer ---------------------------------------------------------------------------------------

def test_ring_buffer_returns_frames_in_order_across_the_wrap():
    ring = RingBuffer(10, 2)
    ring.write(ramp(7))
    np.testing.assert_array_equal(ring.read(5), ramp(5))
    ring.write(ramp(6, start=14))  # wraps: 2 left at the end, 4 at the start
    assert ring.available == 8
    out = ring.read()
    np.testing.assert_array_equal(out, np.concatenate([ramp(7)[5:], ramp(6, start=14)]))
    assert ring.available == 0 and ring.read().shape == (0, 2)
    assert ring.dropped_frames == 0 and ring.total_written == 13


def test_ring_buffer_drops_new_frames_when_full_and_counts_them_never_overwriting_unread_ones():
    ring = RingBuffer(8, 1)
    assert ring.write(ramp(5, 1)) == 5
    assert ring.write(ramp(5, 1, start=5)) == 3
    assert ring.dropped_frames == 2
    np.testing.assert_array_equal(ring.read(), ramp(8, 1))
    assert ring.write(ramp(8, 1, start=100)) == 8  # room again once read


def test_ring_buffer_fed_from_another_thread_loses_nothing():
    import threading

    ring = RingBuffer(4096, 2)
    blocks = [ramp(256, start=i * 512) for i in range(400)]

    def produce():
        for block in blocks:
            while ring.capacity - ring.available < len(block):
                time.sleep(0.0001)
            ring.write(block)

    thread = threading.Thread(target=produce)
    thread.start()
    got = []
    while thread.is_alive() or ring.available:
        got.append(ring.read())
    thread.join()
    np.testing.assert_array_equal(np.concatenate(got), np.concatenate(blocks))
    assert ring.dropped_frames == 0


# ---- level meter ---------------------------------------------------------------------------------------

def sine(amplitude, seconds, rate=1000, channels=1, freq=50.0):
    t = np.arange(int(seconds * rate)) / rate
    wave = (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


def test_meter_reads_peak_and_rms_of_a_sine_per_channel():
    meter = LevelMeter(rate=1000, channels=2)
    block = sine(0.5, 1.0, channels=2)
    block[:, 1] *= 0.1
    reading = meter.process(block)
    assert reading.peak_db[0] == pytest.approx(to_db(0.5), abs=0.01)
    assert reading.rms_db[0] == pytest.approx(to_db(0.5 / np.sqrt(2)), abs=0.01)
    assert reading.peak_db[1] == pytest.approx(to_db(0.05), abs=0.01)
    assert reading.clipped == (False, False)
    assert meter.process(np.zeros((100, 2), np.float32)).peak_db == (FLOOR_DB, FLOOR_DB)


def test_peak_hold_stays_for_the_hold_time_then_falls_and_a_new_peak_catches_it():
    meter = LevelMeter(rate=1000, channels=1, hold_seconds=1.0, fall_db_per_second=20.0)
    meter.process(sine(1.0 * 0.5, 0.1))          # -6 dB peak
    quiet = sine(0.05, 0.1)                       # -26 dB
    for _ in range(9):                            # 0.9 s more: still within the hold
        reading = meter.process(quiet)
    assert reading.hold_db[0] == pytest.approx(to_db(0.5), abs=0.01)
    for _ in range(5):                            # 1.4 s after the peak's block: 0.4 s of falling, 8 dB
        reading = meter.process(quiet)
    assert reading.hold_db[0] == pytest.approx(to_db(0.5) - 8.0, abs=1e-6)
    assert reading.peak_db[0] == pytest.approx(to_db(0.05), abs=0.01)
    reading = meter.process(sine(0.9, 0.1))
    assert reading.hold_db[0] == pytest.approx(to_db(0.9), abs=0.01)


def test_clip_indicator_latches_until_reset_and_counts_clipped_samples():
    meter = LevelMeter(rate=1000, channels=2)
    block = sine(0.3, 0.1, channels=2)
    block[10, 1] = 1.0
    block[11, 1] = -CLIP_LEVEL
    assert meter.process(block).clipped == (False, True)
    assert meter.clip_count == 2
    assert meter.process(sine(0.1, 0.1, channels=2)).clipped == (False, True)  # latched
    meter.reset_clip()
    assert meter.reading.clipped == (False, False) and meter.clip_count == 0
    assert meter.process(sine(0.1, 0.1, channels=2)).any_clipped is False


# ---- streaming take writer ----------------------------------------------------------------------------

def test_take_writer_streams_a_float_wav_with_a_note_and_reads_back_exactly(tmp_path):
    writer = TakeWriter.create(48_000, 2, "Test mic (ALSA)", folder=tmp_path)
    blocks = [ramp(480, start=i * 960) for i in range(50)]
    for block in blocks:
        writer.write(block)
    writer.flush()
    assert writer.flushed_seconds == pytest.approx(0.5)
    # Readable while still open, header and all (what a crash would leave).
    data, rate = sf.read(str(writer.path), dtype="float32", always_2d=True)
    np.testing.assert_array_equal(data, np.concatenate(blocks))
    path = writer.close()
    note = json.loads(path.with_suffix(".json").read_text())
    assert note["device"] == "Test mic (ALSA)" and note["sample_rate"] == 48_000 and note["channels"] == 2
    [take] = pending_takes(tmp_path)
    assert take.seconds == pytest.approx(0.5) and take.device == "Test mic (ALSA)"
    np.testing.assert_array_equal(take.load().samples, np.concatenate(blocks))
    take.discard()
    assert pending_takes(tmp_path) == [] and list(tmp_path.iterdir()) == []


def test_take_writer_flushes_once_the_interval_has_passed(tmp_path):
    writer = TakeWriter.create(1000, 1, "mic", folder=tmp_path, flush_seconds=0.05)
    writer.write(ramp(10, 1))
    assert not writer.flush_if_due()
    time.sleep(0.06)
    assert writer.flush_if_due() and writer.flushed_seconds == pytest.approx(0.01)
    assert not writer.flush_if_due()  # nothing new to flush
    writer.close()


KILLED_WRITER = """
import sys, time
import numpy as np
from pathlib import Path
from core.devices.takes import TakeWriter
writer = TakeWriter.create(48000, 2, "harness", folder=Path(sys.argv[1]))
block = 0
while True:  # 10 ms blocks of a known ramp, as a recorder's drain writes them
    values = np.arange(block * 960, block * 960 + 960, dtype=np.float32).reshape(480, 2) / 1e7
    writer.write(values)
    block += 1
    if writer.flush_if_due():
        print(f"flushed {writer.flushed_frames}", flush=True)
    time.sleep(0.002)
"""


def test_a_take_writer_killed_with_sigkill_leaves_a_readable_take_up_to_its_last_flush(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    flushed = 0
    try:
        while flushed < 1.5 * 48_000:
            line = proc.stdout.readline()
            assert line, "the writer process ended early"
            flushed = int(line.split()[1])
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    [take] = pending_takes(tmp_path)
    assert take.device == "harness" and take.frames >= flushed
    samples = take.load().samples
    expected = np.arange(samples.size, dtype=np.float32).reshape(-1, 2) / 1e7
    np.testing.assert_array_equal(samples, expected)  # every frame in order, none damaged


def test_an_empty_take_left_by_a_kill_before_the_first_sample_is_removed_quietly(tmp_path):
    writer = TakeWriter.create(48_000, 1, "mic", folder=tmp_path)
    assert writer.path.exists()
    assert pending_takes(tmp_path) == []
    assert not writer.path.exists()


def test_an_unreadable_take_is_listed_with_its_error_and_not_deleted(tmp_path):
    bad = tmp_path / "take-20260101-000000-abcdef.wav"
    bad.write_bytes(b"RIFF junk that is not a wav file at all")
    [take] = pending_takes(tmp_path)
    assert take.error and bad.exists()


def test_recordings_live_in_the_data_folder(tmp_path):
    assert recordings_dir() == tmp_path / "loa-data" / "recordings"


# ---- recorder drain, without a device: the callback is PortAudio's entry point, called here directly ---------

def started_recorder(tmp_path, channels=1, rate=1000):
    """A Recorder in its recording state with no stream (what start() builds after opening the device)."""
    from core.devices.meter import LevelMeter
    from core.devices.playback import AudioDevice
    from core.devices.recording import Recorder

    recorder = Recorder(folder=tmp_path, stall_seconds=0.2)
    recorder.input = AudioDevice(7, "Test mic", "ALSA", 0, channels, rate)
    recorder._ring = RingBuffer(rate * 5, channels)
    recorder.meter = LevelMeter(rate, channels)
    recorder.writer = TakeWriter.create(rate, channels, recorder.input.label, folder=tmp_path)
    recorder._recording = True
    recorder._last_data = time.monotonic()

    class Stream:  # what a live PortAudio stream answers; the recorder only asks `active`
        active = True

        def abort(self, ignore_errors=True):
            self.active = False

        def close(self, ignore_errors=True):
            pass

    recorder._stream = Stream()
    return recorder


def test_drain_moves_callback_blocks_to_disk_and_meter_and_stop_returns_the_take(tmp_path):
    recorder = started_recorder(tmp_path)
    blocks = [sine(0.5, 0.1)[:, :1] * (i + 1) / 5 for i in range(5)]
    for block in blocks[:3]:
        recorder._callback(block, len(block), None, None)
    reading = recorder.drain()
    assert recorder.seconds == pytest.approx(0.3)
    assert reading.peak_db[0] == pytest.approx(to_db(0.3), abs=0.01)
    for block in blocks[3:]:
        recorder._callback(block, len(block), None, None)
    take = recorder.stop()
    np.testing.assert_array_equal(take.clip.samples, np.concatenate(blocks))
    assert take.device == "Test mic (ALSA)" and take.sample_rate == 1000 and take.fault == ""
    assert take.details()["device"] == "Test mic (ALSA)" and take.details()["recorded_at"] == take.started
    take.discard_file()
    assert pending_takes(tmp_path) == []


def test_a_device_that_goes_away_ends_the_take_with_a_status_line_and_keeps_every_sample(tmp_path):
    recorder = started_recorder(tmp_path)
    block = sine(0.4, 0.25)
    recorder._callback(block, len(block), None, None)
    recorder.drain()
    recorder._callback(block, len(block), None, None)
    recorder._finished()  # PortAudio ends the stream on its own: the device vanished
    recorder.drain()
    assert not recorder.is_recording
    assert recorder.fault.startswith("Recording stopped: Test mic (ALSA) went away")
    assert "0.5 s" in recorder.fault and "\n" not in recorder.fault
    take = recorder.stop()
    assert take.fault == recorder.fault and take.clip.frames == 500
    assert json.loads(take.path.with_suffix(".json").read_text())["fault"] == take.fault


def test_a_device_that_stops_delivering_audio_is_caught_by_the_stall_check(tmp_path):
    recorder = started_recorder(tmp_path)
    block = sine(0.4, 0.1)
    recorder._callback(block, len(block), None, None)
    recorder.drain()
    time.sleep(0.3)
    recorder.drain()
    assert "no audio from Test mic (ALSA)" in recorder.fault and not recorder.is_recording
    assert recorder.stop().clip.frames == 100


NO_DEVICE = """
import json
from core.devices.playback import PlaybackUnavailable
from core.devices.recording import Recorder, input_status
try:
    Recorder().start()
    out = "no error"
except PlaybackUnavailable as exc:
    out = str(exc)
print(json.dumps({"start": out, "status": input_status()}))
"""


def test_no_input_device_gives_one_clear_line_and_no_take_file(tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), PULSE_SERVER="unix:/nonexistent/pulse",
               JACK_NO_START_SERVER="1", JACK_DEFAULT_SERVER="loa-test-no-such-server",
               LOA_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-c", NO_DEVICE], env=env, capture_output=True, text=True, timeout=60,
                          cwd=REPO)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["start"] == "no error":
        pytest.skip("this machine has a real audio input outside any sound server")
    assert result["start"] == result["status"]
    assert result["start"].startswith("No audio input device found") or "PortAudio" in result["start"]
    assert "\n" not in result["start"]
    assert not list((tmp_path / "data").glob("recordings/take-*"))


DISK_FULL = """
import json, resource, signal, sys
from pathlib import Path
sys.path.insert(0, "tests")
import numpy as np
from test_recording_core import sine, started_recorder
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit, write() fails with EFBIG instead of a kill
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
recorder = started_recorder(Path(sys.argv[1]), rate=48000)
recorder.writer.flush_seconds = 0.0
block = sine(0.4, 0.1, rate=48000)  # 4800 frames, 19200 bytes
fed = 0
while recorder.is_recording and fed < 100:
    recorder._callback(block, len(block), None, None)
    recorder.drain()
    fed += 1
take = recorder.stop()
print(json.dumps({"fault": recorder.fault, "frames": take.clip.frames, "fed": fed}))
"""


def test_a_full_disk_ends_the_take_with_a_status_line_and_keeps_what_was_written(tmp_path):
    done = subprocess.run([sys.executable, "-c", DISK_FULL, str(tmp_path)], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["fault"].startswith("Recording stopped: cannot write the take to disk (")
    assert "\n" not in result["fault"] and result["fed"] < 100
    # Everything flushed before the disk filled up reads back: 100 kB holds 5 blocks of 4800 float frames.
    [take] = pending_takes(tmp_path)
    assert take.frames == result["frames"] >= 4 * 4800
    np.testing.assert_array_equal(take.load().samples[:4800], sine(0.4, 0.1, rate=48000))


def test_a_take_stops_at_the_longest_a_wav_file_holds(tmp_path, monkeypatch):
    import core.devices.takes as takes

    recorder = started_recorder(tmp_path)
    monkeypatch.setattr(takes, "WAV_DATA_LIMIT", 4 * 250)  # a 250-frame "WAV limit", to reach it in a test
    block = sine(0.4, 0.1)
    for _ in range(3):
        recorder._callback(block, len(block), None, None)
        recorder.drain()
    assert not recorder.is_recording and "longest take a WAV file holds" in recorder.fault
    take = recorder.stop()
    np.testing.assert_array_equal(take.clip.samples, np.concatenate([block, block, block[:50]]))
