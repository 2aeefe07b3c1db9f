"""jack_midi_clock (Debian package jack-midi-clock) as a real MIDI clock sender on a JACK server, for tests and for
recording captures: jack_transport is the timebase master whose tempo jack_midi_clock follows.

    python tests/jack_clock.py OUT.json 97:4 140:4 61.5:5 174:4     # BPM:seconds, one after another

records the pulse times core.devices.midi stamps (and when each tempo was set) into OUT.json.
"""

from __future__ import annotations

import json
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
    capture = record([(float(b), float(s)) for b, s in (a.split(":") for a in sys.argv[2:])])
    Path(sys.argv[1]).write_text(json.dumps(capture))
    for row in follow(capture):
        print(row)
