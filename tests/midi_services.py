"""Helpers for tests that need a JACK server (MIDI over JACK): find the one .ci/run starts, or skip cleanly.

Locally: `JACK_NO_AUDIO_RESERVATION=1 jackd --no-realtime -d dummy -r 48000 -p 256 &` (apt install jackd2).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from audio_services import service_missing


def jack_answers() -> bool:
    if shutil.which("jack_lsp") is None:
        return False
    env = dict(os.environ, JACK_NO_START_SERVER="1")
    try:
        return subprocess.run(["jack_lsp"], capture_output=True, timeout=5, env=env).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def require_jack() -> None:
    """Skip unless a JACK server answers (.ci/run starts jackd with the dummy driver); with CI=true, fail."""
    if not jack_answers():
        service_missing("no JACK server answers `jack_lsp` (.ci/run starts `jackd -d dummy`; start one to run this)")


def wait_for(condition, timeout: float = 3.0, step: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def send_clock(output, bpm: float, pulses: int, start: float | None = None) -> float:
    """Send `pulses` clock messages at `bpm` on absolute times (no drift); returns when the next would be due."""
    period = 60.0 / (bpm * 24)
    due = time.monotonic() if start is None else start
    for _ in range(pulses):
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        output.send([0xF8])
        due += period
    return due


def connect(output, midi, timeout: float = 5.0) -> None:
    """Wait until messages from `output` reach `midi` (a JACK connection settles a cycle or two after open):
    send a probe (CC 127 on channel 16) until one arrives, then drop what came in."""
    probe = [0xBF, 127, 0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output.send(probe)
        if wait_for(lambda: any(e.kind == "cc" and e.channel == 15 for e in midi.drain()), timeout=0.1):
            time.sleep(0.05)
            midi.drain()
            return
    raise AssertionError(f"MIDI from the virtual output never arrived ({midi.status})")
