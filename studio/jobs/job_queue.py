"""The job queue: generation requests run off the GUI thread, one after another, each cancellable.

Workers are QRunnables on a one-thread QThreadPool (one resident pipeline per model; running two
at once would only double memory, the engine serialises calls anyway). The core's plain progress
callback and CancelToken cross into Qt here: the worker emits on a signals object that lives in
the GUI thread, so every public signal of `JobQueue` is delivered on the GUI thread.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

import numpy as np
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from core.audio.clip import Clip
from core.audio.naming import take_title
from core.errors import Cancelled, LoaError
from core.generation.engine import Engine, GenerationResult
from core.generation.engine_cache import EngineCache
from core.generation.progress import CancelToken, Progress, ProgressCallback
from core.generation.requests import GenerationRequest

log = logging.getLogger(__name__)

# A job's work: given the engine for its model, the JobSpec, a progress callback and a cancel
# token, return a GenerationResult. Every mode builds a core task (core.generation.tasks) and runs it here.
JobWork = Callable[[Engine, "JobSpec", ProgressCallback, CancelToken], GenerationResult]


def task_work(engine: Engine, spec: "JobSpec", progress: ProgressCallback,
              cancel: CancelToken) -> GenerationResult:
    """The one job function: run the spec's core task (when it names none, the one its mode builds)."""
    from core.generation import tasks
    from studio.generate.modes import task_for

    task = spec.task if spec.task is not None else task_for(spec.mode, spec.request, spec.extra)
    return tasks.run(engine, task, progress, cancel)



@dataclass
class JobSpec:
    """What to run: a mode ("sound", "music", ...), a model spec (hub id or folder) and a request."""

    mode: str
    model: str
    request: GenerationRequest
    work: JobWork = task_work
    title: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # mode-specific inputs, e.g. the source to continue
    task: Any = None  # the core task (core.generation.tasks); None: the one `mode` builds (studio.generate.modes.task_for)
    # Called on the worker thread with (job, result) once the work is done, before the job is reported finished:
    # the window stores the takes there, so their files and rows are written off the GUI thread.
    after_work: Optional[Callable[["Job", GenerationResult], None]] = None

    def describe(self) -> str:
        """The job as the user knows it: the words for speech, the source for Continue, else the prompt."""
        if self.title:
            return self.title
        source = self.extra.get("source")
        return take_title(self.request.prompt, {"text": self.request.transcription, "source": source,
                                                "operation": self.mode if source else None})


@dataclass
class Job:
    id: int
    spec: JobSpec
    token: CancelToken = field(default_factory=CancelToken)
    status: str = "queued"  # queued, running, finished, failed, cancelled
    progress: Optional[Progress] = None
    result: Optional[GenerationResult] = None
    error: Optional[str] = None
    denoising_steps_seen: int = 0
    library_ids: list[int] = field(default_factory=list)  # the takes as stored by the spec's after_work
    store_error: Optional[str] = None  # why after_work could not store them

    @property
    def done(self) -> bool:
        return self.status in ("finished", "failed", "cancelled")


def without_audio(result: GenerationResult) -> GenerationResult:
    """The result with its takes' audio dropped (clip None): what a finished job keeps."""
    return replace(result, candidates=[replace(c, clip=None) for c in result.candidates])


def without_inputs(spec: JobSpec) -> JobSpec:
    """The spec without the audio it was given (the editor's whole clip, in its task and extra): what a done job
    keeps. A reference voice stays: "More like this" reads it, and it is a few seconds of 16 kHz mono."""
    def holds_audio(value) -> bool:
        return isinstance(value, (Clip, np.ndarray))

    return replace(spec, task=None, extra={k: v for k, v in spec.extra.items() if not holds_audio(v)})


class _WorkerSignals(QObject):
    started = Signal(int)
    progress = Signal(int, object)
    finished = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)


class _JobRunnable(QRunnable):
    def __init__(self, job: Job, engines: EngineCache, signals: _WorkerSignals) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the queue holds it until it is done, so tryTake() stays safe
        self.job, self.engines, self.signals = job, engines, signals

    def run(self) -> None:  # runs on the worker thread: touches no widgets
        job, signals = self.job, self.signals
        if job.token.cancelled:
            signals.cancelled.emit(job.id)
            return
        signals.started.emit(job.id)
        try:
            engine = self.engines.get(job.spec.model)
            if not engine.loaded:
                signals.progress.emit(job.id, Progress("loading", 0, 1))
            result = job.spec.work(engine, job.spec, lambda p: signals.progress.emit(job.id, p), job.token)
            if job.spec.after_work is not None:
                job.spec.after_work(job, result)
        except Cancelled:
            signals.cancelled.emit(job.id)
        except LoaError as exc:
            signals.failed.emit(job.id, str(exc))
        except Exception as exc:  # noqa: BLE001 - one clear message in the window, the traceback in the log
            log.exception("job %s failed", job.id)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            signals.failed.emit(job.id, f"Generation failed: {type(exc).__name__}: {first}")
        else:
            signals.finished.emit(job.id, result)


class JobQueue(QObject):
    """Submit JobSpecs; watch them through signals delivered on the GUI thread."""

    job_added = Signal(object)  # Job
    job_started = Signal(object)  # Job
    job_progress = Signal(object, object)  # Job, core.generation.progress.Progress
    job_finished = Signal(object, object)  # Job, GenerationResult
    job_failed = Signal(object, str)  # Job, message
    job_cancelled = Signal(object)  # Job
    job_done = Signal(object)  # Job, after any of finished / failed / cancelled

    def __init__(self, engines: Optional[EngineCache] = None, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.engines = engines or EngineCache()
        self.jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._runnables: dict[int, _JobRunnable] = {}
        self._retired: list[_JobRunnable] = []  # done, but their run() may still be returning
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _WorkerSignals(self)
        self._signals.started.connect(self._on_started)
        self._signals.progress.connect(self._on_progress)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self._signals.cancelled.connect(self._on_cancelled)

    # ---- public ------------------------------------------------------------------------------------
    def submit(self, spec: JobSpec) -> Job:
        if self._pool.activeThreadCount() == 0:
            self._retired.clear()
        job = Job(next(self._ids), spec)
        self.jobs[job.id] = job
        runnable = _JobRunnable(job, self.engines, self._signals)
        self._runnables[job.id] = runnable
        self.job_added.emit(job)
        self._pool.start(runnable)
        return job

    def cancel(self, job_id: int) -> None:
        """Cancel a queued job at once, or ask a running one to stop at its next step."""
        job = self.jobs.get(job_id)
        if job is None or job.done:
            return
        job.token.cancel()
        runnable = self._runnables.get(job_id)
        if job.status == "queued" and runnable is not None and self._pool.tryTake(runnable):
            self._on_cancelled(job_id)

    def cancel_all(self) -> None:
        for job_id in list(self.jobs):
            self.cancel(job_id)

    def shutdown(self, msecs: int = 30_000) -> bool:
        """Cancel everything and wait for the worker (window close, test teardown)."""
        self.cancel_all()
        return self._pool.waitForDone(msecs)

    # ---- worker reports (GUI thread) ---------------------------------------------------------------
    def _on_started(self, job_id: int) -> None:
        job = self.jobs[job_id]
        if job.done:
            return
        job.status = "running"
        self.job_started.emit(job)

    def _on_progress(self, job_id: int, progress: Progress) -> None:
        job = self.jobs[job_id]
        if job.done:
            return
        job.progress = progress
        if progress.stage == "denoising":
            job.denoising_steps_seen = max(job.denoising_steps_seen, progress.step)
        self.job_progress.emit(job, progress)

    def _on_finished(self, job_id: int, result: GenerationResult) -> None:
        job = self._finish(job_id, "finished")
        job.result = result
        self.job_finished.emit(job, result)
        self.job_done.emit(job)
        # Delivered: the takes are on cards, in the library or back in the editor. The job keeps what they were
        # (seeds, scores, settings), not their audio, so a long session's memory does not grow with every job.
        job.result = without_audio(result)

    def _on_failed(self, job_id: int, message: str) -> None:
        job = self._finish(job_id, "failed")
        job.error = message
        self.job_failed.emit(job, message)
        self.job_done.emit(job)

    def _on_cancelled(self, job_id: int) -> None:
        job = self.jobs[job_id]
        if job.done:
            return
        self._finish(job_id, "cancelled")
        self.job_cancelled.emit(job)
        self.job_done.emit(job)

    def _finish(self, job_id: int, status: str) -> Job:
        job = self.jobs[job_id]
        job.status = status
        job.spec = without_inputs(job.spec)
        runnable = self._runnables.pop(job_id, None)
        if runnable is not None:
            self._retired.append(runnable)
        return job
