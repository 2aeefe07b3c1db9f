"""Playback under load: output underruns and wall time of core.devices.playback.Player at several buffer sizes while
other Python threads keep the GIL busy (what a generation or the GUI drawing does to the writer thread), as JSON.

    python benchmarks/bench_playback_load.py                                  # 2 busy threads, 0.035 / 0.1 / 0.2 s
    python benchmarks/bench_playback_load.py --threads 3 --latency 0.035 0.2 --repeats 4 --out result.json

Needs an output device (e.g. the PulseAudio null sink .ci/run starts). Each run plays a 3 s clip to its end and
counts the writes PortAudio reported as late (`Player.underflows`); `seconds` is start to end-of-clip (a PulseAudio null sink
adds up to 2 s before the first sample and after each underrun).
"""

from __future__ import annotations

import argparse
import platform
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.json_report import print_and_save  # noqa: E402
from core.audio.clip import Clip  # noqa: E402
from core.devices.playback import Player  # noqa: E402


def busy(stop: threading.Event) -> None:
    count = 0
    while not stop.is_set():
        count += 1


def play_once(latency: float, clip: Clip, timeout: float) -> dict:
    ended = threading.Event()
    player = Player(on_finished=ended.set, latency=latency)
    started = time.perf_counter()
    player.play(clip)
    finished = ended.wait(timeout)
    seconds = time.perf_counter() - started
    granted = player._take.stream.latency
    player.stop()
    return {"underruns": player.underflows, "seconds": round(seconds, 2), "finished": finished,
            "granted_latency": round(granted, 3)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="busy Python threads beside the player")
    parser.add_argument("--latency", type=float, nargs="+", default=[0.035, 0.1, 0.2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="clip length")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    rate = 16_000
    t = np.arange(int(args.seconds * rate)) / rate
    clip = Clip((0.3 * np.sin(2 * np.pi * 500 * t)).astype(np.float32)[:, None], rate)
    stop = threading.Event()
    workers = [threading.Thread(target=busy, args=(stop,), daemon=True) for _ in range(args.threads)]
    for worker in workers:
        worker.start()
    results = []
    try:
        for latency in args.latency:
            runs = [play_once(latency, clip, timeout=args.seconds + 12.0) for _ in range(args.repeats)]
            results.append({"latency": latency, "runs": runs,
                            "underruns_total": sum(r["underruns"] for r in runs),
                            "unfinished": sum(not r["finished"] for r in runs)})
    finally:
        stop.set()
    report = {"benchmark": "playback_load", "busy_threads": args.threads, "clip_seconds": args.seconds,
              "python": platform.python_version(), "machine": platform.machine(), "results": results}
    print_and_save(report, args.out)


if __name__ == "__main__":
    main()
