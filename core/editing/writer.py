"""Writing an edit's blocks behind the edit, and making every edit durable (fsync) off the GUI's path.

An edit is recorded in this order: its small blocks are written (temp file + rename), its version row is
committed to sqlite, and then one background job writes its large blocks (when the edit can be computed again
from the version before it: see core.editing.repair) and fsyncs its block files, their folder and sqlite's
write-ahead log. The next edit waits for that job before it records anything, so at most one edit is ever
between "recorded" and "on disk". After a kill -9 in that window, opening the session computes the missing
blocks again from the previous version (or, for an edit that cannot be recomputed, drops that one edit).
After a power cut, everything up to the last finished job is on disk.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from core.editing.blocks import BlockStore

BACKGROUND_MIN_BYTES = 4 << 20  # smaller blocks are written before the edit returns (a few ms)


@dataclass
class PlannedWrites:
    """The blocks one edit stores: passed to refs_after_change as its `store`, it writes small blocks now and
    defers large ones (when `defer` is allowed) to the background job."""

    store: BlockStore
    defer: bool
    written: list[str] = field(default_factory=list)
    deferred: list[tuple[str, np.ndarray]] = field(default_factory=list)

    def write(self, samples: np.ndarray) -> str:
        if self.defer and samples.nbytes >= BACKGROUND_MIN_BYTES:
            block = self.store.new_id()
            self.deferred.append((block, samples))
            return block
        block = self.store.write(samples)
        self.written.append(block)
        return block

    @property
    def blocks(self) -> list[str]:
        return self.written + [b for b, _ in self.deferred]


class BackgroundWriter:
    """One thread; one job per edit (write its deferred blocks, fsync everything it wrote and the WAL)."""

    def __init__(self, store: BlockStore, wal: Path) -> None:
        self.store = store
        self.wal = wal
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="edit-writer")
        self._job: Optional[Future] = None
        self._plan: Optional[PlannedWrites] = None

    @property
    def writing(self) -> frozenset[str]:
        """Blocks recorded in a version whose files may not be complete yet."""
        job, plan = self._job, self._plan
        if plan is None or (job is not None and job.done() and job.exception() is None):
            return frozenset()
        return frozenset(b for b, _ in plan.deferred)

    def submit(self, plan: PlannedWrites) -> None:
        self._plan = plan
        self._job = self._pool.submit(self._run, plan)

    def _run(self, plan: PlannedWrites) -> None:
        for i, (block, samples) in enumerate(plan.deferred):
            if samples is not None:
                self.store.write(samples, block, durable=True)
                plan.deferred[i] = (block, None)  # written: do not keep a version's audio alive for it
        self.store.sync(plan.written)
        self.sync_log()

    def sync_log(self) -> None:
        try:
            fd = os.open(self.wal, os.O_RDONLY)
        except FileNotFoundError:
            return  # checkpointed away: the database file itself was synced by sqlite
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def wait(self) -> None:
        """Until the last edit's job is done. If it failed (disk full), try once more here; OSError if that
        fails too (the edit stays recorded, and opening the session again recomputes its blocks)."""
        job, plan = self._job, self._plan
        if job is None:
            return
        try:
            job.result()
        except OSError:
            self._run(plan)  # raises when the disk still refuses; the job stays pending
        self._job = self._plan = None

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)
