"""Running a plan: units are rendered (here, or by Ray actors), and the driver writes each take atomically with
its provenance sidecar, then appends its fsync'ed manifest record. A stop request (Ctrl+C) lets the units in
flight finish and land, then returns; the next run resumes from the manifest."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

from core.audio.formats.take import write_take
from core.errors import InputError
from core.output_checks import OutputError, OutputExists, describe_os_error

from . import manifest
from .plan import Plan, Unit, render_key
from .render import Take, render_unit

LOCK_NAME = ".loa-batch.lock"


@dataclass
class Stats:
    total: int
    already_done: int
    rendered: int = 0
    audio_seconds: float = 0.0
    started: float = field(default_factory=time.monotonic)
    stopped: bool = False
    # Seconds each pending unit should take, from the measured per-bucket times on this device
    # (core.generation.job_times); empty when a unit has none yet: the ETA is then the rate seen so far.
    unit_estimates: dict = field(default_factory=dict)  # unit_key(unit) -> seconds
    estimated_done: float = 0.0  # the estimates of the units rendered so far in this run

    @property
    def done(self) -> int:
        return self.already_done + self.rendered

    @property
    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-9)

    @property
    def files_per_minute(self) -> float:
        return self.rendered / self.elapsed * 60.0

    @property
    def audio_per_second(self) -> float:
        return self.audio_seconds / self.elapsed

    @property
    def eta_seconds(self) -> Optional[float]:
        if self.unit_estimates:
            left = max(0.0, sum(self.unit_estimates.values()) - self.estimated_done)
            if self.rendered and self.estimated_done > 0:
                left *= self.elapsed / self.estimated_done  # as much slower or faster as this run has been
            return left
        if not self.rendered:
            return None
        return (self.total - self.done) / (self.rendered / self.elapsed)

    def line(self) -> str:
        eta = self.eta_seconds
        eta_text = "--" if eta is None else _duration(eta)
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        return (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} files  "
                f"{self.files_per_minute:.1f} files/min  {self.audio_per_second:.2f} audio s/s  ETA {eta_text}")


class StopFlag:
    """Set by Ctrl+C / SIGTERM (or the studio's Cancel): no new unit starts; those in flight still land."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum: Optional[int] = None  # the signal that asked to stop (None: a Cancel button, or not yet)

    def set(self, signum: Optional[int] = None) -> None:
        if not self._event.is_set():
            self.signum = signum
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()


@contextlib.contextmanager
def batch_lock(out: Path) -> Iterator[None]:
    """One run per output folder at a time (flock); a second one is refused with a clear line."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder; name a folder (it is made if missing).")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:  # read-only, no permission, full disk: one line, exit 2
        raise OutputError(f"cannot write into --out {out}: {describe_os_error(exc, out)}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(f"another `loa batch` is writing into {out}; wait for it or use another --out") from None
        yield
    finally:
        os.close(fd)


class BatchWriter:
    """Lands takes: audio + sidecar together (core.fileio), then the manifest line. Never writes a path twice."""

    def __init__(self, plan: Plan, stats: Stats, on_progress: Optional[Callable[[Stats], None]] = None,
                 on_written: Optional[Callable[[Unit, list[Path]], None]] = None) -> None:
        self.plan, self.stats, self.on_progress, self.on_written = plan, stats, on_progress, on_written
        self.written: set[str] = set()

    def write(self, unit: Unit, takes: list[Take]) -> list[Path]:
        row, landed = unit.row, []
        for take in takes:
            rel = str(row.relative_path(take.seed))
            if rel in self.written or take.seed not in unit.seeds:
                continue  # a retried unit's late twin: the file is already there once
            key = render_key(row, take.seed)
            provenance = take.provenance
            provenance.settings = dict(provenance.settings) | {
                "batch": self.plan.job.name, "row_line": row.line, "render_key": key, "metadata": row.extra}
            path = self.plan.out / rel
            manifest.claim(self.plan.out, rel)  # before the file lands: a kill after it still leaves it ours
            try:  # a name that was free at the check is written only if it still is (never a user's new file)
                write_take(take.clip, path, provenance, row.output_format, overwrite=rel in self.plan.replace)
            except OutputExists as exc:
                manifest.release(self.plan.out, rel)
                raise OutputError(f"line {row.line}: {exc.path} appeared while the batch ran and is not ours; it "
                                  "was left as it is (rename the output or pass --overwrite).") from None
            manifest.append(self.plan.out, {
                "line": row.line, "prompt": row.prompt, "words": row.words, "mode": row.mode, "seed": take.seed,
                "settings": row.settings(), "model": provenance.model_id, "licence": provenance.licence,
                "score": provenance.score, "path": rel, "sha256": manifest.file_sha256(path), "render_key": key,
                "seconds": round(take.clip.seconds, 6), "metadata": row.extra, "batch": self.plan.job.name})
            self.written.add(rel)
            self.stats.rendered += 1
            self.stats.audio_seconds += take.clip.seconds
            landed.append(path)
        self.stats.estimated_done += self.stats.unit_estimates.get(unit_key(unit), 0.0)
        if self.on_written is not None and landed:
            self.on_written(unit, landed)
        if self.on_progress is not None:
            self.on_progress(self.stats)
        return landed


def unit_key(unit: Unit) -> tuple:
    return unit.row.line, tuple(unit.seeds)


def row_seconds(row) -> Optional[float]:
    """The length a row renders, where the row says it (a length, or bars at a tempo); None: from the audio."""
    if row.seconds is not None:
        return float(row.seconds)
    if row.bars and row.bpm:
        return row.bars * row.beats_per_bar * (4 / row.beat_unit) * 60.0 / row.bpm
    return None


def unit_estimates(plan: Plan, times) -> dict:
    """{unit_key(unit): seconds} for every unit of `plan`, from the measured per-bucket times; {} unless all have one."""
    out = {}
    for unit in plan.units:
        seconds = row_seconds(unit.row)
        estimate = None if seconds is None else times.estimate(unit.row.model, seconds, unit.row.steps,
                                                                len(unit.seeds))
        if estimate is None:
            return {}
        out[unit_key(unit)] = estimate
    return out


def run_local(plan: Plan, writer: BatchWriter, stop: StopFlag, device: str = "auto", pool=None,
              times=None) -> None:
    if pool is None:
        from core.generation.engine_cache import shared_cache

        pool = shared_cache(device)
    for unit in plan.units:
        if stop():
            writer.stats.stopped = True
            return
        started = time.monotonic()
        takes = render_unit(pool, unit.row, unit.seeds)
        elapsed = time.monotonic() - started
        writer.write(unit, takes)  # the user's takes land first; a kill after them costs only the timing below
        seconds = row_seconds(unit.row)
        if times is not None and seconds is not None:
            times.record(unit.row.model, seconds, unit.row.steps, len(unit.seeds), elapsed)


def run_plan(plan: Plan, stop: StopFlag, ray: Optional[str] = None, device: str = "auto",
             cpus_per_worker: int = 1, on_progress: Optional[Callable[[Stats], None]] = None,
             on_workers: Optional[Callable[[list[int]], None]] = None, pool=None,
             on_written: Optional[Callable[[Unit, list[Path]], None]] = None) -> Stats:
    """Render every unit of `plan` (locally, or on Ray when `ray` is "auto" or an address) and return the stats.
    `pool`: anything with `get(model) -> Engine` (the studio passes its resident engines)."""
    from core.devices.compute import pick_device
    from core.generation.job_times import JobTimes

    times = JobTimes(pick_device(getattr(pool, "device", None) or device).type)
    stats = Stats(plan.total_files, plan.done_files, unit_estimates=unit_estimates(plan, times))
    writer = BatchWriter(plan, stats, on_progress, on_written)
    if plan.units:
        if ray:
            from .ray_pool import run_on_ray

            run_on_ray(plan, writer, stop, ray, device, cpus_per_worker, on_workers)
        else:
            run_local(plan, writer, stop, device, pool, times)
        manifest.tidy(plan.out)  # one record per file again, and no claim for a file that has its record
    return stats


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"
