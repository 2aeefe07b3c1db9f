"""What a run renders: every variation of every good row named from its pattern, minus the files the manifest
already vouches for (same render key, same sha256), grouped into denoising batches of consecutive seeds."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InputError
from core.generation.requests import MAX_CANDIDATES
from core.stale_temps import sweep_folder
from core.wording import counted

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
    replace: set[str] = field(default_factory=set)  # names already in OUT this run may replace (ours/--overwrite)
    skipped: list[str] = field(default_factory=list)  # "line N: why" for files left out (--skip-bad)

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


class PlanProblems(InputError):
    """Files the run may not write (a user's file in the way, a folder, the job file): one line each."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__(f"{counted(len(lines), 'output')} cannot be written; nothing was rendered ({lines[0]}).")


def plan_batch(job: JobFile, out: Path, device: str = "cpu", max_batch: int | None = None,
               write: bool = True, overwrite: bool = False, skip_bad: bool = False) -> Plan:
    """Plan the run. A name already in OUT is replaced only when the manifest says it is ours (or `overwrite`);
    otherwise PlanProblems lists every such row (or, with `skip_bad`, those files are left out of the plan).
    With `write` (the caller holds the folder's batch lock), temps of a killed writer are swept from the folders
    the run writes into and the manifest is compacted to the records still vouched for (so appends during the
    run never duplicate a file's record)."""
    out = Path(out)
    if os.path.lexists(out) and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder; name a folder (it is made if missing).")
    found = manifest.read_manifest(out)  # refuses a manifest.jsonl that is not ours before anything is written
    if write and out.is_dir():  # first: a set a killed writer left half-renamed goes back whole (core.commit_journal)
        folders = {out / row.relative_path(seed).parent for row in job.rows for seed in row.seeds}
        for folder in sorted(folders):
            if folder.is_dir():
                sweep_folder(folder, force=True)  # only our own temps, only of writers that are gone
    keep, units, keys, done, total, replace, problems = {}, [], {}, 0, 0, set(), []
    for row in job.rows:
        pending = []
        for seed in row.seeds:
            rel, key = str(row.relative_path(seed)), render_key(row, seed)
            keys[rel] = key
            if manifest.is_done(out, found.get(rel), key):
                keep[rel] = found.records[rel]
                done += 1
                total += 1
                continue
            problem = _blocked(out, rel, found, overwrite, job.path)
            if problem is not None:
                problems.append(f"line {row.line}: {problem}")
                continue
            total += 1
            pending.append(seed)
            if any(os.path.lexists(p) for p in _pair(out, rel)):
                replace.add(rel)
        size = max_batch or batch_size(device, row.seconds)
        units.extend(Unit(row, run) for run in _runs(pending, size))
    if problems and not skip_bad:
        raise PlanProblems(problems)
    for rel, record in found.records.items():  # files of rows no longer in the job file stay recorded while they exist
        if rel not in keys and (out / rel).is_file():
            keep[rel] = record
    if write:
        out.mkdir(parents=True, exist_ok=True)
        owned = [rel for rel in found.claimed if rel not in keep and any(os.path.lexists(p) for p in _pair(out, rel))]
        manifest.compact(out, keep.values(), owned)
    return Plan(out, job, units, total, done, keys, replace, problems if skip_bad else [])


def _pair(out: Path, rel: str) -> tuple[Path, Path]:
    return out / rel, out / (rel + ".json")


def _blocked(out: Path, rel: str, found: manifest.Manifest, overwrite: bool, job_path: Path) -> str | None:
    """Why the file (or its sidecar) at `rel` may not be written, or None."""
    folder = (out / rel).parent
    while folder != out and not os.path.lexists(folder):
        folder = folder.parent
    if folder != out and not folder.is_dir():
        return f"{folder.relative_to(out)} is a file, so {rel} cannot be made inside it; rename the output"
    for path in _pair(out, rel):
        if not os.path.lexists(path):
            continue
        name = str(path.relative_to(out))
        if _same_file(path, job_path):
            return f"{name} is the job file itself; give the output another name"
        if path.is_dir() or not (path.is_file() or path.is_symlink()):
            return f"{name} is a folder or not a regular file; rename the output"
        if not overwrite and not found.owns(rel):
            return f"{name} exists and is not ours; rename the output or pass --overwrite"
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _runs(seeds: list[int], size: int) -> list[tuple[int, ...]]:
    runs: list[list[int]] = []
    for seed in seeds:
        if runs and runs[-1][-1] == seed - 1 and len(runs[-1]) < size:
            runs[-1].append(seed)
        else:
            runs.append([seed])
    return [tuple(r) for r in runs]
