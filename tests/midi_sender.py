"""A MIDI clock source in its own process, as a DAW would be: a virtual JACK output sending a steady clock.

    python tests/midi_sender.py PORT_NAME BPM:PULSES [BPM:PULSES ...]

Prints "ready" once the port exists, then sends a probe (CC 127 on channel 16) every 20 ms until a line arrives on
stdin; then Start, the clock segments on absolute times (sleep, then a short spin for the last millisecond),
Stop, Song Position 32, Continue; prints "done". Its own process keeps the receiver's GIL out of the timing.
"""

from __future__ import annotations

import select
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from virtual_midi import VirtualOutput  # noqa: E402


def wait_until(due: float) -> None:
    while True:
        left = due - time.monotonic()
        if left <= 0:
            return
        time.sleep(left - 0.001 if left > 0.002 else 0)


def main() -> None:
    out = VirtualOutput(sys.argv[1], client_name="loa-clock-sender")
    print("ready", flush=True)
    while not select.select([sys.stdin], [], [], 0.02)[0]:
        out.send([0xBF, 127, 0])
    sys.stdin.readline()
    out.send([0xFA])
    due = time.monotonic()
    for segment in sys.argv[2:]:
        bpm, pulses = segment.split(":")
        period = 60.0 / (float(bpm) * 24)
        for _ in range(int(pulses)):
            wait_until(due)
            out.send([0xF8])
            due += period
    for message in ([0xFC], [0xF2, 32, 0], [0xFB]):
        time.sleep(0.01)
        out.send(message)
    time.sleep(0.2)
    print("done", flush=True)
    out.close()


if __name__ == "__main__":
    main()
