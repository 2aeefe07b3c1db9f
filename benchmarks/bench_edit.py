"""Speed and memory of the editor core on a long clip, as JSON.

    python benchmarks/bench_edit.py                       # 10-minute stereo 48 kHz float clip
    python benchmarks/bench_edit.py --minutes 1 --steps 20 --out benchmarks/results/edit.json

For each operation, run --repeat times (fastest and median kept): the seconds the pure operation takes
(`compute_s`), the seconds `EditSession.apply` takes (the operation, its small blocks and its version row; a
large block of an edit is written behind it), the longest wait for that write-behind
and its fsync (`write_behind_s_max`, which a real session overlaps with what the user does next), the seconds
`undo` takes, and the peak resident memory during each (sampled every 2 ms). Then `--steps`
operations in a row (a realistic mix: splices, fades, gains on selections, a whole-clip effect every tenth),
with the resident memory and the session's disk use after them. Writes JSON to stdout and, with --out, to a
file (benchmarks/results/ is git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.json_report import print_and_save  # noqa: E402
from core.audio.clip import Clip  # noqa: E402
from core.editing import EditSession, Selection, operation  # noqa: E402

RATE = 48_000
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_mb() -> float:
    """Current resident memory in MB (Linux /proc; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE / 1e6
    except OSError:
        unit = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit / 1e6


class PeakRss:
    """Samples the resident memory on a thread while the block runs."""

    def __enter__(self):
        self.peak, self._stop = rss_mb(), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def long_clip(minutes: float) -> Clip:
    """A tone with noise on two channels: realistic enough for loudness, and nothing compresses it."""
    frames = int(minutes * 60 * RATE)
    rng = np.random.default_rng(0)
    samples = np.empty((frames, 2), np.float32)
    chunk = RATE * 10
    for i in range(0, frames, chunk):
        t = np.arange(i, min(frames, i + chunk)) / RATE
        tone = 0.2 * np.sin(2 * np.pi * 220 * t)
        samples[i:i + len(t), 0] = tone + 0.05 * rng.standard_normal(len(t))
        samples[i:i + len(t), 1] = tone + 0.05 * rng.standard_normal(len(t))
    return Clip(samples, RATE)


def cases(frames: int) -> list[tuple[str, str, Selection, dict]]:
    """(label, operation, selection, parameters): 10 s selections mid-clip, and whole-clip effects."""
    mid = frames // 2
    ten = Selection(mid, mid + 10 * RATE)
    whole = Selection()
    return [
        ("cut 10 s", "cut", ten, {}), ("copy 10 s", "copy", ten, {}),
        ("paste 10 s", "paste", Selection.cursor(mid // 2), {}), ("delete 10 s", "delete", ten, {}),
        ("trim to middle half", "trim", Selection(frames // 4, 3 * frames // 4), {}),
        ("insert silence 1 s", "insert_silence", Selection.cursor(mid), {"seconds": 1.0}),
        ("silence 10 s", "silence", ten, {}),
        ("fade in 10 s s-curve", "fade_in", ten, {"curve": "s-curve"}),
        ("fade out whole exponential", "fade_out", whole, {"curve": "exponential"}),
        ("gain 10 s", "gain", ten, {"db": -3.0}), ("gain whole", "gain", whole, {"db": -3.0}),
        ("normalise peak whole", "normalize_peak", whole, {"dbfs": -1.0}),
        ("normalise loudness 10 s", "normalize_loudness", ten, {"lufs": -16.0}),
        ("normalise loudness whole", "normalize_loudness", whole, {"lufs": -16.0}),
        # up by 8 dB: the true-peak limit (-1 dBTP) caps the gain, so every block is oversampled
        ("normalise loudness whole, peak-limited", "normalize_loudness", whole, {"lufs": -6.0}),
        ("reverse 10 s", "reverse", ten, {}), ("reverse whole", "reverse", whole, {}),
        ("resample whole to 44.1 kHz", "resample", whole, {"rate": 44_100}),
        ("to mono", "to_mono", whole, {}),
    ]


def first_kernel_call_s() -> float:
    """Seconds the editor's numba kernels (loudness, true peak) take on first use in a process: importing numba
    and loading them from the on-disk cache, or compiling them the very first time."""
    from core.editing import measure

    tiny = (np.random.default_rng(2).standard_normal((RATE, 2)) * 0.1).astype(np.float32)
    t0 = time.perf_counter()
    measure.integrated_loudness(tiny, RATE)
    measure.true_peak(tiny)
    return time.perf_counter() - t0


def timed(fn):
    with PeakRss() as mem:
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
    return result, round(seconds, 4), round(mem.peak, 1)


def run_cases(session: EditSession, repeat: int) -> list[dict]:
    """Each case applied and undone `repeat` times: the fastest and the median run (this machine is shared,
    so the fastest is the best estimate of the work itself), and the highest peak memory."""
    rows = []
    for label, name, sel, params in cases(session.clip.frames):
        applies, undos, peaks, undo_peaks, changed, computes, flushes = [], [], [], [], False, [], []
        for _ in range(repeat):
            extra = {"pasted": session.clipboard} if name == "paste" else {}
            _, compute_s, _ = timed(lambda: operation(name)(session.clip, sel, **params, **extra).did_change)
            computes.append(compute_s)
            changed, apply_s, apply_peak = timed(lambda: session.apply(name, sel, **params).did_change)
            _, flush_s, _ = timed(session.flush)  # the rest of its write-behind (runs during the next action)
            applies.append(apply_s)
            flushes.append(flush_s)
            peaks.append(apply_peak)
            if changed:
                _, undo_s, undo_peak = timed(lambda: bool(session.undo()))
                undos.append(undo_s)
                undo_peaks.append(undo_peak)
        rows.append(_row(label, changed, applies, undos, peaks, undo_peaks)
                    | {"compute_s_min": min(computes), "write_behind_s_max": max(flushes)})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    session.apply("to_mono", Selection())  # to stereo needs a mono clip
    applies, undos, peaks, undo_peaks = [], [], [], []
    for _ in range(repeat):
        changed, apply_s, apply_peak = timed(lambda: session.apply("to_stereo", Selection()).did_change)
        _, undo_s, undo_peak = timed(lambda: bool(session.undo()))
        applies.append(apply_s), undos.append(undo_s), peaks.append(apply_peak), undo_peaks.append(undo_peak)
    rows.append(_row("to stereo", changed, applies, undos, peaks, undo_peaks))
    session.undo()
    return rows


def _row(label, changed, applies, undos, peaks, undo_peaks) -> dict:
    row = {"operation": label, "changed": changed, "apply_s_min": min(applies),
           "apply_s_median": float(np.median(applies)), "apply_peak_rss_mb": max(peaks)}
    if undos:
        row |= {"undo_s_min": min(undos), "undo_s_median": float(np.median(undos)),
                "undo_peak_rss_mb": max(undo_peaks)}
    return row


def run_sequence(session: EditSession, steps: int) -> dict:
    """`steps` edits in a row, then undo all of them."""
    frames = session.clip.frames
    rng = np.random.default_rng(1)
    slowest = 0.0
    started = time.perf_counter()
    for i in range(steps):
        a = int(rng.integers(0, max(1, session.clip.frames - 5 * RATE)))
        sel = Selection(a, a + int(rng.integers(RATE // 10, 5 * RATE)))
        kind = i % 10
        if kind == 9:
            name, sel, params = "gain", Selection(), {"db": -0.1}
        else:
            name, params = [("cut", {}), ("paste", {}), ("fade_in", {"curve": "linear"}), ("gain", {"db": 1.0}),
                            ("silence", {}), ("delete", {}), ("fade_out", {"curve": "s-curve"}),
                            ("reverse", {}), ("insert_silence", {"seconds": 0.5})][kind]
            if name == "paste":
                sel = Selection.cursor(a)
        t0 = time.perf_counter()
        session.apply(name, sel, **params)
        slowest = max(slowest, time.perf_counter() - t0)
    session.flush()  # the last edit's write-behind counts too
    total = time.perf_counter() - started
    after = {"steps": steps, "seconds_total": round(total, 2), "slowest_apply_s": round(slowest, 4),
             "rss_after_mb": round(rss_mb(), 1), "disk_mb": round(session.disk_bytes() / 1e6, 1),
             "frames_after": session.clip.frames, "frames_before": frames}
    slowest_undo = 0.0
    while session.can_undo:
        t0 = time.perf_counter()
        session.undo()
        slowest_undo = max(slowest_undo, time.perf_counter() - t0)
    after |= {"slowest_undo_s": round(slowest_undo, 4), "rss_after_undo_all_mb": round(rss_mb(), 1)}
    return after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="clip length (default 10)")
    parser.add_argument("--steps", type=int, default=100, help="operations in the sequence (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each operation + undo (default 3)")
    parser.add_argument("--folder", type=Path, default=None, help="where the session lives (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args()

    rss_start = rss_mb()
    t0 = time.perf_counter()
    import scipy.signal  # noqa: F401  first use imports scipy.signal and soxr: timed apart, once
    import soxr  # noqa: F401
    import_s = time.perf_counter() - t0
    kernels_s = first_kernel_call_s()
    clip = long_clip(args.minutes)
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        created, create_s, create_peak = timed(partial(EditSession.create, clip, name="bench", root=Path(folder)))
        created.close()
        del created, clip
        session, open_s, open_peak = timed(lambda: EditSession.open(sorted(Path(folder).iterdir())[0]))
        report = {
            "benchmark": "edit", "machine": platform.machine(), "cpus": os.cpu_count(),
            "python": platform.python_version(), "numpy": np.__version__,
            "clip": {"minutes": args.minutes, "rate": RATE, "channels": 2, "dtype": "float32",
                     "mb": round(session.clip.samples.nbytes / 1e6, 1)},
            "rss_start_mb": round(rss_start, 1), "first_use_imports_s": round(import_s, 2),
            "numba_kernels_first_call_s": round(kernels_s, 2),
            "create_s": create_s, "create_peak_rss_mb": create_peak,
            "open_s": open_s, "open_peak_rss_mb": open_peak,
            "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "operations": run_cases(session, args.repeat),
            "sequence": run_sequence(session, args.steps),
            "load_average_at_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                 * (1 if sys.platform == "darwin" else 1024) / 1e6, 1),
        }
        session.close()
    print_and_save(report, args.out)


if __name__ == "__main__":
    main()
