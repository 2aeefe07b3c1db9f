"""What a run renders: every variation of every good row named from its pattern, minus the files the manifest
already vouches for (same render key, same sha256), grouped into denoising batches of consecutive seeds."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from core.generation.requests import MAX_CANDIDATES
from . import manifest
from .jobs import JobFile, JobRow

CPU_BATCH = 4
GPU_AUDIO_SECONDS_PER_BATCH = 80.0  # candidates x seconds that fit beside the 1.1 B model in 16 GB


@dataclass(frozen=True)
class Unit:
    """One denoising batch: consecutive seeds of one row (candidate i uses seed + i)."""

    row: JobRow
    seeds: tuple[int, ...]

    def paths(self) -> list[str]:
        return [str(self.row.relative_path(s)) for s in self.seeds]


@dataclass
class Plan:
    out: Path
    job: JobFile
    units: list[Unit]
    total_files: int
    done_files: int
    keys: dict[str, str] = field(default_factory=dict)  # relative path -> render key

    @property
    def pending_files(self) -> int:
        return sum(len(u.seeds) for u in self.units)


def render_key(row: JobRow, seed: int) -> str:
    fields = row.settings() | {"seed": seed, "extension": row.relative_path(seed).suffix.lower()}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


def batch_size(device: str, seconds: float | None) -> int:
    """A memory-safe number of candidates per denoising batch."""
    if device in ("cpu", "mps"):
        return CPU_BATCH
    return max(1, min(MAX_CANDIDATES, int(GPU_AUDIO_SECONDS_PER_BATCH // max(seconds or 10.0, 1.0))))


def plan_batch(job: JobFile, out: Path, device: str = "cpu", max_batch: int | None = None,
               write: bool = True) -> Plan:
    """Plan the run. With `write`, stale temp files of a killed run are removed and the manifest is compacted to
    the records still vouched for (so appends during the run never duplicate a file's record)."""
    out = Path(out)
    records = manifest.read_manifest(out)
    keep, units, keys, done, total = {}, [], {}, 0, 0
    for row in job.rows:
        pending = []
        for seed in row.seeds:
            rel, key = str(row.relative_path(seed)), render_key(row, seed)
            keys[rel] = key
            total += 1
            if manifest.is_done(out, records.get(rel), key):
                keep[rel] = records[rel]
                done += 1
            else:
                pending.append(seed)
        size = max_batch or batch_size(device, row.seconds)
        units.extend(Unit(row, run) for run in _runs(pending, size))
    for rel, record in records.items():  # files of rows no longer in the job file stay recorded while they exist
        if rel not in keys and (out / rel).is_file():
            keep[rel] = record
    if write:
        out.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(out)
        manifest.compact(out, keep.values())
    return Plan(out, job, units, total, done, keys)


def _runs(seeds: list[int], size: int) -> list[tuple[int, ...]]:
    runs: list[list[int]] = []
    for seed in seeds:
        if runs and runs[-1][-1] == seed - 1 and len(runs[-1]) < size:
            runs[-1].append(seed)
        else:
            runs.append([seed])
    return [tuple(r) for r in runs]


def _remove_stale_temps(out: Path) -> None:
    """Hidden temp files (core.fileio's `.NAME.PID-XXXX.tmp.EXT`) left by a killed run; the caller holds the
    folder's batch lock, so no live writer owns them."""
    for folder, _, files in os.walk(out):
        for name in files:
            if name.startswith(".") and ".tmp" in name:
                try:
                    os.unlink(os.path.join(folder, name))
                except OSError:
                    pass
