"""Throughput of `loa batch` in local mode and in Ray mode (`--ray auto`: one actor per CPU slot or GPU), as JSON.

    python benchmarks/bench_batch.py --files 16 --seconds 1 --steps 10            # tiny random-weight model
    python benchmarks/bench_batch.py --model cvssp/audioldm2 --device cuda --files 32 --seconds 10 --steps 25

Each mode runs the real CLI in a fresh process on a fresh output folder; the numbers come from its summary line
(files per minute and audio seconds per second over the whole run, model loading and Ray start-up included).
Writes the JSON to stdout and, with --out, to a file.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.json_report import print_and_save  # noqa: E402

SUMMARY = re.compile(r"(\d+) rendered.*?([\d.]+) files/min, ([\d.]+) audio s/s")


def run_mode(jobs: Path, out: Path, model: str, device: str, ray: bool, batch_size: int | None) -> dict:
    args = [sys.executable, "-m", "core.cli.main", "batch", str(jobs), "--out", str(out), "--model", model,
            "--device", device, "--quiet"]
    args += ["--ray", "auto"] if ray else []
    args += ["--batch-size", str(batch_size)] if batch_size else []
    started = time.perf_counter()
    done = subprocess.run(args, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True)
    wall = time.perf_counter() - started
    match = SUMMARY.search(done.stderr)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"loa batch failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return {"mode": "ray" if ray else "local", "files": int(match.group(1)), "wall_seconds": round(wall, 2),
            "files_per_minute": float(match.group(2)), "audio_seconds_per_second": float(match.group(3))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model id or folder (default: a tiny random-weight model)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--modes", nargs="+", choices=("local", "ray"), default=["local", "ray"])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        model = args.model
        if model is None:
            sys.path.insert(0, str(REPO / "tests"))
            from tiny_pipeline import build_tiny_pipeline

            model = str(build_tiny_pipeline(scratch / "tiny-audioldm2"))
        jobs = scratch / "jobs.csv"
        jobs.write_text(f"prompt,seconds,steps,seed\nrain on a tin roof,{args.seconds},{args.steps},"
                        f"1-{args.files}\n")
        results = [run_mode(jobs, scratch / f"out-{mode}", model, args.device, mode == "ray", args.batch_size)
                   for mode in args.modes]
    report = {"benchmark": "batch", "model": args.model or "tiny random-weight (tests/tiny_pipeline.py)",
              "device": args.device, "cpus": os.cpu_count(), "machine": platform.machine(),
              "seconds_per_file": args.seconds, "steps": args.steps, "results": results}
    print_and_save(report, args.out)


if __name__ == "__main__":
    main()
