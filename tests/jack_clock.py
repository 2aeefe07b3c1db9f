"""jack_midi_clock (Debian package jack-midi-clock) as a real MIDI clock sender on a JACK server, for tests and for
recording captures: jack_transport is the timebase master whose tempo jack_midi_clock follows.

    python tests/jack_clock.py OUT.json 97:4 140:4 61.5:5 174:4     # BPM:seconds, one after another

records the pulse times core.devices.midi stamps (and when each tempo was set) into OUT.json, on a private JACK dummy
server (48 kHz, 256 frames) with realtime scheduling where the machine allows it (see private_server).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.devices.clock_tempo import ClockTempo  # noqa: E402
from core.devices.midi import MidiInput  # noqa: E402


def available() -> bool:
    return shutil.which("jack_midi_clock") is not None and shutil.which("jack_transport") is not None


def realtime_allowed() -> bool:
    """Whether this machine lets a process take realtime (FIFO) scheduling (root, CAP_SYS_NICE or an rtprio limit)."""
    probe = "import os; os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


@contextlib.contextmanager
def private_server(realtime: bool = True):
    """A JACK dummy server of our own (48 kHz, 256 frames) for the clock: JACK_DEFAULT_SERVER names it for this
    process and its children while it runs. Yields whether it runs with realtime scheduling (jackd -R).

    Why not the shared server .ci/services.sh starts: that one is not realtime, and on a loaded machine its cycles
    start late, never caught up: the pulses themselves then run slow and jump (94.8 BPM for 97 at load 11 on two
    cores), and no follower can read the tempo that was set. A realtime dummy server keeps its cycles on time
    beside other work (load 9-11: the pulses' own line 97.0, 140.0, 61.5, 174.0), as a DAW's audio thread does."""
    realtime = realtime and realtime_allowed()
    name = f"loa-clock-{uuid.uuid4().hex[:8]}"
    old = os.environ.get("JACK_DEFAULT_SERVER")
    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1", JACK_DEFAULT_SERVER=name)
    server = subprocess.Popen(["jackd", "-R" if realtime else "--no-realtime", "-n", name,
                               "-d", "dummy", "-r", "48000", "-p", "256"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    os.environ["JACK_DEFAULT_SERVER"] = name
    try:
        deadline = time.monotonic() + 10
        probe = dict(env, JACK_NO_START_SERVER="1")
        while subprocess.run(["jack_lsp"], capture_output=True, env=probe).returncode != 0:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"jackd -n {name} did not start (exit {server.poll()})")
            time.sleep(0.1)
        yield realtime
    finally:
        if old is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = old
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def record(segments: list[tuple[float, float]], client_name: str = "loa-clock-capture") -> dict:
    """Run jack_midi_clock through `segments` [(bpm, seconds), ...]; {"changes": [[t, bpm]], "pulses": [t]}."""
    sender = subprocess.Popen(["jack_midi_clock", "-b", str(segments[0][0])],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    transport = subprocess.Popen(["jack_transport"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, text=True)
    midi = MidiInput(client_name=client_name)
    events, changes = [], []

    def command(line: str) -> None:
        transport.stdin.write(line + "\n")
        transport.stdin.flush()

    try:
        deadline = time.monotonic() + 5
        port = None
        while port is None and time.monotonic() < deadline:
            port = next((p for p in midi.ports() if p.startswith("jack_midi_clock")), None)
            time.sleep(0.05)
        assert port and midi.open(port), f"jack_midi_clock's port did not come up ({midi.status})"
        command("master")
        command(f"tempo {segments[0][0]}")
        time.sleep(0.3)
        command("play")
        for bpm, seconds in segments:
            command(f"tempo {bpm}")
            changes.append([time.monotonic(), bpm])
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                events += midi.drain()
                time.sleep(0.01)
        command("stop")
        time.sleep(0.2)
        events += midi.drain()
        command("quit")
    finally:
        midi.close()
        sender.terminate()
        transport.kill()
        sender.wait()
        transport.wait()
    pulses = [e.timestamp for e in events if e.kind == "clock"]
    return {"changes": changes, "pulses": pulses}


def follow(capture: dict) -> list[dict]:
    """Per tempo: % of readings within 0.5 BPM from two beats after the change (four after the start, where the
    sender itself settles), the largest error there, the seconds from the change to the first reading within 0.5,
    and the pulses' own tempo over that stretch (a line through them; a gap of about two periods counts a lost pulse)."""
    times = np.asarray(capture["pulses"])
    follower = ClockTempo()
    readings = np.array([follower.pulse(t) or np.nan for t in times])
    rows = []
    changes = capture["changes"]
    for i, (start, bpm) in enumerate(changes):
        end = changes[i + 1][0] if i + 1 < len(changes) else times[-1] + 1
        stretch = np.flatnonzero((times >= start) & (times < end))
        judged = stretch[times[stretch] >= start + (4 if i == 0 else 2) * 60.0 / bpm]
        error = np.abs(readings[judged] - bpm)
        near = stretch[np.abs(readings[stretch] - bpm) <= 0.5]
        caught = times[near[0]] - start if len(near) else float("inf")
        nominal = 60.0 / (24 * bpm)
        steps = np.maximum(1, np.round(np.diff(times[judged]) / nominal))  # a gap of two periods: a lost pulse
        numbers = np.concatenate([[0.0], np.cumsum(steps)])
        sent = 60.0 / (24 * np.polyfit(numbers, times[judged], 1)[0])
        rows.append({"bpm": bpm, "within": 100.0 * float(np.mean(error <= 0.5)), "max_error": float(np.max(error)),
                     "caught": float(caught), "pulses": int(len(judged)), "sent_bpm": float(sent)})
    return rows


if __name__ == "__main__":
    with private_server() as realtime:
        print("realtime server" if realtime else "server without realtime scheduling (not allowed here)")
        capture = record([(float(b), float(s)) for b, s in (a.split(":") for a in sys.argv[2:])])
    Path(sys.argv[1]).write_text(json.dumps(capture))
    for row in follow(capture):
        print(row)
