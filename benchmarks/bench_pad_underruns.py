"""Pads while a generation runs: output underruns per minute of pad playing, at several pad-stream latencies, as JSON.

    python benchmarks/bench_pad_underruns.py --model /path/to/a/model/folder           # a real generation running
    python benchmarks/bench_pad_underruns.py --latency low 0.04 --seconds 60 --out result.json

Needs an output device (e.g. the PulseAudio null sink .ci/run starts). For each latency, a core.devices.pad_player
PadPlayer plays four pads (0.4 s tones, one trigger every 125 ms, as a beat) for `--seconds`, while a second thread
keeps generating with core.generation.engine (the `--model` folder; without one, two Python threads keep the GIL
busy instead). `underruns` counts the callbacks PortAudio flagged `output_underflow`; `alsa_underruns` counts the
"underrun occurred" reports alsa-lib made meanwhile (through PulseAudio's ALSA plugin PortAudio often does not flag
them), which core.quiet's handler receives instead of the terminal; both are also given per minute of pad playing.
`console_underrun_lines` counts such lines that still reached the process's stderr (the console stays quiet: 0).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.json_report import print_and_save  # noqa: E402
from core.audio.clip import Clip  # noqa: E402
from core.devices.pad_player import PadPlayer  # noqa: E402
from core.quiet import alsa_xruns  # noqa: E402


def load(model: str | None, stop: threading.Event) -> tuple[list[threading.Thread], dict]:
    counts = {"generations": 0}
    if model:
        from core.generation.engine import Engine
        from core.generation.requests import GenerationRequest

        engine = Engine(model, device="cpu")
        engine.load()

        def generate() -> None:
            while not stop.is_set():
                engine.generate(GenerationRequest(prompt="rain on a tin roof", seconds=2.0, steps=10, candidates=2))
                counts["generations"] += 1
        threads = [threading.Thread(target=generate, daemon=True)]
    else:
        def spin() -> None:
            x = 0
            while not stop.is_set():
                x = (x * 31 + 7) % 1_000_003
        threads = [threading.Thread(target=spin, daemon=True) for _ in range(2)]
    return threads, counts


def run(latency, seconds: float, model: str | None) -> dict:
    rate = 48_000
    t = np.arange(int(0.4 * rate)) / rate
    player = PadPlayer(latency=latency)
    player.open()
    for pad in range(4):
        player.load(pad, Clip((0.3 * np.sin(2 * np.pi * (220 + 110 * pad) * t)).astype(np.float32), rate))
    stop = threading.Event()
    threads, counts = load(model, stop)
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # the load is running before the pads start
    player.underruns = 0
    alsa_before = alsa_xruns()["underrun"]
    console = tempfile.TemporaryFile()  # what still reaches stderr meanwhile ("underrun occurred"), counted below
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(console.fileno(), 2)
    start = time.monotonic()
    beat = 0
    while time.monotonic() - start < seconds:
        player.trigger(beat % 4)
        beat += 1
        time.sleep(0.125)
    played = time.monotonic() - start
    os.dup2(saved, 2)
    os.close(saved)
    console.seek(0)
    console_lines = console.read().decode(errors="replace").count("underrun occurred")
    alsa = alsa_xruns()["underrun"] - alsa_before
    console.close()
    underruns = player.underruns
    granted = player.latency
    stop.set()
    player.close()
    for thread in threads:
        thread.join(timeout=60)
    return {"latency_asked": latency, "latency_granted_s": round(granted, 4), "seconds": round(played, 1),
            "triggers": beat, "underruns": underruns, "per_minute": round(underruns * 60.0 / played, 2),
            "alsa_underruns": alsa, "alsa_per_minute": round(alsa * 60.0 / played, 2),
            "console_underrun_lines": console_lines,
            "generations_during": counts["generations"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", nargs="+", default=["low", "0.04"])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--model", help="a model folder: a real generation runs meanwhile (else busy threads)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    runs = [run(value if value in ("low", "high") else float(value), args.seconds, args.model)
            for value in args.latency]
    report = {"benchmark": "pad_underruns", "python": platform.python_version(), "machine": platform.machine(),
              "load": "generation" if args.model else "2 busy Python threads", "runs": runs}
    print_and_save(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
