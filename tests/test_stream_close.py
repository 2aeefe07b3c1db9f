"""A PortAudio close whose driver never returns (a sound server killed mid-stream) costs its caller at most
`wait` seconds, and the app still exits: PortAudio is not terminated over a stream still stuck in its close."""

import subprocess
import sys
import threading
import time
from pathlib import Path

from core.devices.stream_close import close_stream, hung_closes

REPO = Path(__file__).resolve().parents[1]


class DriverStream:
    """Stands in for a PortAudio stream whose host API blocks in abort until `release` is set; the real hang
    (an ALSA plugin waiting on a dead server) cannot be made on demand."""

    def __init__(self, hang: bool):
        self.release = threading.Event()
        if not hang:
            self.release.set()
        self.calls = []
        self.active = True

    def abort(self, ignore_errors=True):
        self.calls.append("abort")
        self.release.wait()
        self.active = False

    def stop(self, ignore_errors=True):
        self.calls.append("stop")

    def close(self, ignore_errors=True):
        self.calls.append("close")


def test_a_driver_that_returns_is_aborted_and_closed_before_close_stream_returns():
    stream = DriverStream(hang=False)
    assert close_stream(stream) is True
    assert stream.calls == ["abort", "close"]
    assert close_stream(None) is True


def test_a_driver_hung_in_abort_costs_the_caller_only_the_wait_and_its_close_finishes_later():
    stream = DriverStream(hang=True)
    started = time.monotonic()
    assert close_stream(stream, wait=0.2) is False
    assert 0.15 < time.monotonic() - started < 1.5
    assert hung_closes() >= 1 and stream.calls == ["abort"]
    stream.release.set()  # the driver comes back after all: the close completes on its own thread
    deadline = time.monotonic() + 5
    while stream.calls != ["abort", "close"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stream.calls == ["abort", "close"]


EXIT_WITH_A_HUNG_CLOSE = """
import atexit, sys, threading
sys.path.insert(0, "tests")
import sounddevice
from core.devices.stream_close import close_stream
from test_stream_close import DriverStream
# Registered after sounddevice's exit handler and before close_stream's: it runs between the two.
atexit.register(lambda: print("portaudio terminate pending:", sounddevice._initialized, flush=True))
sounddevice.query_devices()
print("closed:", close_stream(DriverStream(hang=True), wait=0.1), flush=True)
"""


def test_the_process_exits_with_a_close_still_hung_and_skips_portaudios_terminate():
    done = subprocess.run([sys.executable, "-c", EXIT_WITH_A_HUNG_CLOSE], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["closed: False", "portaudio terminate pending: 0"]
