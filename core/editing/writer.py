"""The edit session's disk writes, in Audacity's order, on one writer thread.

An edit's new blocks are written and fsynced (files, then their folder) before its version row is committed
to sqlite (synchronous=FULL), so the database never refers to audio that is not on disk: a crash or kill -9
leaves at most an orphan block, which the next open deletes, and never a version without its data. The clip
in memory is updated at once; the writes run behind it on one thread, in the order they were asked for.
The session waits for the previous edit's writes before it records the next one, so at most one edit is ever
between "shown" and "on disk". An edit with little new audio waits for its own writes (a few ms), so a full
disk refuses it at once; a long clip's large blocks (a whole-clip fade of ten minutes) are written behind.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from core.editing.blocks import BlockStore

BACKGROUND_MIN_BYTES = 4 << 20  # an edit writing less new audio than this waits for its own writes


@dataclass
class PlannedWrites:
    """The blocks one edit adds: passed to refs_after_change as its `store`, it names each new block and keeps
    its samples (views of the new clip, no copy) until the writer thread has them on disk."""

    store: BlockStore
    pending: list[tuple[str, Optional[np.ndarray]]] = field(default_factory=list)

    def write(self, samples: np.ndarray) -> str:
        block = self.store.new_id()
        self.pending.append((block, samples))
        return block

    @property
    def blocks(self) -> list[str]:
        return [b for b, _ in self.pending]

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for _, s in self.pending if s is not None)

    def write_all(self) -> None:
        """Every block written and fsynced, then the folder that names them (run on the writer thread)."""
        for i, (block, samples) in enumerate(self.pending):
            if samples is not None:
                self.store.write(samples, block, durable=True)
                self.pending[i] = (block, None)  # on disk: do not keep a version's audio alive for it
        if self.pending:
            self.store.sync([])  # the folder: the new names survive a power cut


class SessionWriter:
    """One thread running the session's writes one after the other. When one fails (a full disk), the later
    ones are held back, and `wait` runs them again in order on the caller's thread."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="edit-writer")
        self._queue: list[tuple[Callable[[], None], Future]] = []  # submitted, not yet known to be done
        self._stalled = threading.Event()

    def submit(self, job: Callable[[], None]) -> None:
        self._queue.append((job, self._pool.submit(self._run, job)))

    def _run(self, job: Callable[[], None]) -> bool:
        if self._stalled.is_set():
            return False  # an earlier write failed: this one waits for `wait` to run it after that one
        try:
            job()
        except BaseException:
            self._stalled.set()
            raise
        return True

    def wait(self) -> None:
        """Until every write asked for is on disk. A write that failed is tried once more here, then the ones
        after it; the error of one that fails again is raised (it and the later ones stay queued)."""
        for _, future in self._queue:
            try:
                future.result()
            except Exception:
                pass
        while self._queue:
            job, future = self._queue[0]
            if not _ran(future):
                job()  # raises when the disk still refuses
            self._queue.pop(0)
        self._stalled.clear()

    def run(self, job: Callable[[], None], undo: Callable[[], None]) -> None:
        """Submit `job` and wait for it; when it fails, call `undo` (remove what it wrote), forget it, raise."""
        self.wait()
        self.submit(job)
        job_future = self._queue[-1][1]
        try:
            job_future.result()
        except BaseException:
            self._queue.pop()
            self._stalled.clear()
            undo()
            raise
        self._queue.pop()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


def _ran(future: Future) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None and future.result()
