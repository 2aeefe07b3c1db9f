"""How long generations took on this machine, per duration bucket, to estimate the next ones (the window's job
rows, `loa batch`'s ETA).

A run of `steps` x `candidates` at a length that falls in a compiled bucket (core.generation.compiled: 2.56,
5.12, 10.24, 20.48, 30.72 s) renders the bucket's length, so its seconds per step and candidate are kept under
that bucket: an 8 s and a 10 s request cost the same, and a compiled bucket's graph makes it cheaper than its
neighbours. Lengths outside the buckets share one entry, in seconds per step, candidate and audio second. The last
KEPT_RUNS measurements per device, precision, model and bucket are kept in `<app cache>/job-times.json` (small,
written atomically); an estimate is their median times the job's size, or, for a bucket not measured yet, the
other buckets' figures scaled by audio length; None before the first run.
"""

from __future__ import annotations

import json
import statistics
import threading
from pathlib import Path
from typing import Optional

from core.errors import LoaError
from core.generation.compiled import bucket_for

FILE_NAME = "job-times.json"
KEPT_RUNS = 5
OTHER = "other"
_lock = threading.Lock()


def bucket_label(seconds: float) -> str:
    bucket = bucket_for(seconds)
    return f"{bucket:g}" if bucket is not None else OTHER


def _units(label: str, seconds: float, steps: int, candidates: int) -> float:
    size = max(1, int(steps)) * max(1, int(candidates))
    return size if label != OTHER else size * max(1.0, float(seconds))


def _audio_seconds(label: str, seconds: float) -> float:
    return float(label) if label != OTHER else max(1.0, float(seconds))


class JobTimes:
    def __init__(self, device: str, path: Optional[Path] = None) -> None:
        self.device = str(device)
        self._path = path

    @property
    def path(self) -> Path:
        if self._path is None:
            from core.paths import cache_dir

            self._path = cache_dir() / FILE_NAME
        return self._path

    def _key(self, model: str, precision: Optional[str]) -> str:
        if precision is None:
            from core.generation.precision import default_precision

            precision = default_precision()
        return f"{self.device}|{precision}|{model}"

    def _load(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, LoaError):  # LoaError: a cache folder that cannot be made
            return {}
        return data.get("runs", {}) if isinstance(data, dict) and isinstance(data.get("runs"), dict) else {}

    def _buckets(self, model: str, precision: Optional[str]) -> dict[str, list[float]]:
        entry = self._load().get(self._key(model, precision), {})
        if not isinstance(entry, dict):
            return {}
        return {label: [float(r) for r in runs if isinstance(r, (int, float)) and r > 0]
                for label, runs in entry.items() if isinstance(runs, list)}

    def record(self, model: str, seconds: float, steps: int, candidates: int, took: float,
               precision: Optional[str] = None) -> None:
        """One finished generation of `seconds` x `steps` x `candidates` that took `took` seconds."""
        if took <= 0:
            return
        from core.fileio import write_text_atomic

        label = bucket_label(seconds)
        per_unit = took / _units(label, seconds, steps, candidates)
        with _lock:
            runs = self._load()
            key = self._key(model, precision)
            entry = runs.get(key) if isinstance(runs.get(key), dict) else {}  # a damaged entry is replaced
            earlier = entry.get(label) if isinstance(entry.get(label), list) else []
            entry[label] = (earlier + [round(per_unit, 6)])[-KEPT_RUNS:]
            runs[key] = entry
            try:
                write_text_atomic(self.path, json.dumps({"version": 1, "runs": runs}, indent=1) + "\n")
            except (OSError, LoaError):  # fileio turns OS errors into OutputError; a full or read-only cache
                pass  # only means no estimate, never a failed job (a batch records before it writes the takes)

    def estimate(self, model: str, seconds: float, steps: int, candidates: int,
                 precision: Optional[str] = None) -> Optional[float]:
        """Seconds a generation should take here: this bucket's median, else the other buckets' scaled by length."""
        buckets = {k: v for k, v in self._buckets(model, precision).items() if v}
        label = bucket_label(seconds)
        units = _units(label, seconds, steps, candidates)
        if label in buckets:
            return statistics.median(buckets[label]) * units
        if not buckets:
            return None
        # per step, candidate and audio second, from whatever was measured; times this job's audio length
        rates = [statistics.median(runs) / (_audio_seconds(k, 1.0) if k != OTHER else 1.0)
                 for k, runs in buckets.items()]
        return statistics.median(rates) * units * (_audio_seconds(label, seconds) if label != OTHER else 1.0)
