"""jack_midi_clock (Debian package jack-midi-clock) as a real MIDI clock sender on a JACK server, for tests and for
recording captures: jack_transport is the timebase master whose tempo jack_midi_clock follows.

    python tests/jack_clock.py OUT.json 97:4 140:4 61.5:5 174:4     # BPM:seconds, one after another
    python tests/jack_clock.py OUT.json --on-this-server 97:4 ...    # on the server JACK_DEFAULT_SERVER names

records the pulse times core.devices.midi stamps (and when each tempo was set) into OUT.json, on a private JACK dummy
server (48 kHz, 256 frames) with realtime scheduling where the machine allows it (see private_server).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.devices.midi import MidiInput  # noqa: E402
from core.tempo.clock import ClockTempo  # noqa: E402


def available() -> bool:
    return shutil.which("jack_midi_clock") is not None and shutil.which("jack_transport") is not None


def realtime_allowed() -> bool:
    """Whether this machine lets a process take realtime (FIFO) scheduling (root, CAP_SYS_NICE or an rtprio limit)."""
    probe = "import os; os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


SERVER_NAMES = ("loa-clock-rt-0", "loa-clock-rt-1", "loa-clock-rt-2")  # fixed: JACK reclaims a name's stale slot


@contextlib.contextmanager
def private_server(realtime: bool = True):
    """A JACK dummy server of our own (48 kHz, 256 frames) for the clock: JACK_DEFAULT_SERVER names it for this
    process and its children while it runs. Yields "realtime" (jackd -R), "private" (realtime scheduling not
    allowed here) or "shared" when none could start, and the default server (.ci/services.sh's) is used.

    Why not the shared server .ci/services.sh starts: that one is not realtime, and on a loaded machine its cycles
    start late, never caught up: the pulses themselves then run slow and jump (94.8 BPM for 97 at load 11 on two
    cores), and no follower can read the tempo that was set. A realtime dummy server keeps its cycles on time
    beside other work (load 9-11: the pulses' own line 97.0, 140.0, 61.5, 174.0), as a DAW's audio thread does.

    The names come from a fixed few: JACK keeps at most 8 servers in its registry and a stopped server's entry stays
    until a server of the same name starts again (servers under fresh names filled it: "Too many servers already
    active"); a name in use by another run is skipped."""
    realtime = realtime and realtime_allowed()
    old = os.environ.get("JACK_DEFAULT_SERVER")
    server = None
    try:
        for name in SERVER_NAMES:
            server, said = _start_server(name, realtime)
            if server is not None:
                os.environ["JACK_DEFAULT_SERVER"] = name
                break
            print(f"jackd -n {name} did not start ({said})")
        yield ("realtime" if realtime else "private") if server is not None else "shared"
    finally:
        if old is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = old
        if server is not None:
            gc.collect()  # JACK clients of this process left in reference cycles go first: libjack crashes a client
            _stop(server)  # whose server vanishes under it (a segfault seen when a MidiInput outlived the server)


def _start_server(name: str, realtime: bool):
    """(the running jackd, "") or (None, the last lines it printed)."""
    import tempfile

    env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1", JACK_DEFAULT_SERVER=name)
    probe = dict(env, JACK_NO_START_SERVER="1")
    if subprocess.run(["jack_lsp"], capture_output=True, env=probe).returncode == 0:
        return None, "in use by another run"
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(["jackd", "-R" if realtime else "--no-realtime", "-n", name,
                               "-d", "dummy", "-r", "48000", "-p", "256"],
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 20
    while subprocess.run(["jack_lsp"], capture_output=True, env=probe).returncode != 0:
        if server.poll() is not None or time.monotonic() > deadline:
            _stop(server)
            log.seek(0)
            banner = ("jackdmp", "Copyright", "This is free", "under certain")
            lines = [line for line in log.read().decode(errors="replace").splitlines()
                     if line.strip() and not line.startswith(banner)]
            return None, f"exit {server.returncode}: " + " / ".join(lines[-3:])
        time.sleep(0.1)
    return server, ""


def _stop(server: subprocess.Popen) -> None:
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
        if len(judged) < 2:  # the sender sent (nearly) nothing there: nothing to judge, the pulses did not keep time
            rows.append({"bpm": bpm, "within": 0.0, "max_error": float("inf"), "caught": float("inf"),
                         "pulses": int(len(judged)), "sent_bpm": float("nan")})
            continue
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


def record_in_a_process(segments: list[tuple[float, float]]) -> dict:
    """record() in a process of its own, on the server JACK_DEFAULT_SERVER names now (a private one): libjack
    serves one server per process, and a test process holding clients of the default server crashed (a segfault)
    once it also opened one on a private server."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "capture.json"
        done = subprocess.run([sys.executable, __file__, str(out), "--on-this-server",
                               *(f"{bpm:g}:{seconds:g}" for bpm, seconds in segments)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(out.read_text())


if __name__ == "__main__":
    here = "--on-this-server" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--on-this-server"]
    segments = [(float(b), float(s)) for b, s in (a.split(":") for a in args[1:])]
    if here:
        capture = record(segments)
    else:
        with private_server() as mode:
            print(f"JACK server: {mode}")
            capture = record_in_a_process(segments)
    Path(args[0]).write_text(json.dumps(capture))
    if here:
        sys.exit(0)
    for row in follow(capture):
        print(row)
