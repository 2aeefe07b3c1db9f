"""The job list: one row per queued or running job with its progress bar (denoising step n of N)
and a Cancel button; finished rows linger briefly and then go away."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from core.generation.progress import Progress

from .jobs import Job, JobQueue

DONE_ROW_LINGER_MS = 4000

STAGE_TEXT = {"loading": "loading model", "encoding": "reading the prompt", "denoising": "denoising",
              "decoding": "decoding", "scoring": "scoring"}


def progress_text(progress: Progress) -> str:
    stage = STAGE_TEXT.get(progress.stage, progress.stage)
    if progress.stage == "denoising":
        return f"{stage}: step {progress.step} of {progress.total}"
    return stage


class JobRow(QWidget):
    def __init__(self, job: Job, queue: JobQueue, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobRow")
        self.job = job
        self.title = QLabel(job.spec.describe())
        self.title.setMinimumWidth(120)
        self.bar = QProgressBar()
        self.bar.setObjectName("jobProgress")
        self.bar.setRange(0, max(1, job.spec.request.steps))
        self.bar.setValue(0)
        self.bar.setFormat("queued")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("jobCancel")
        self.cancel_button.clicked.connect(lambda: queue.cancel(job.id))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title, 1)
        layout.addWidget(self.bar, 2)
        layout.addWidget(self.cancel_button)

    def show_progress(self, progress: Progress) -> None:
        if progress.stage == "denoising":
            self.bar.setRange(0, max(1, progress.total))
            self.bar.setValue(progress.step)
        elif progress.stage in ("decoding", "scoring"):
            self.bar.setValue(self.bar.maximum())
        self.bar.setFormat(progress_text(progress))

    def show_done(self, text: str) -> None:
        self.bar.setFormat(text)
        self.cancel_button.setEnabled(False)


class JobListView(QWidget):
    def __init__(self, queue: JobQueue, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobList")
        self.queue = queue
        self.rows: dict[int, JobRow] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        queue.job_added.connect(self._on_added)
        queue.job_started.connect(lambda job: self._row(job) and self._row(job).bar.setFormat("starting"))
        queue.job_progress.connect(lambda job, p: self._row(job) and self._row(job).show_progress(p))
        queue.job_finished.connect(lambda job, _r: self._done(job, "done"))
        queue.job_failed.connect(lambda job, _m: self._done(job, "failed"))
        queue.job_cancelled.connect(lambda job: self._done(job, "cancelled"))

    def _row(self, job: Job) -> Optional[JobRow]:
        return self.rows.get(job.id)

    def _on_added(self, job: Job) -> None:
        row = JobRow(job, self.queue)
        self.rows[job.id] = row
        self._layout.addWidget(row)

    def _done(self, job: Job, text: str) -> None:
        row = self._row(job)
        if row is None:
            return
        row.show_done(text)
        QTimer.singleShot(DONE_ROW_LINGER_MS, self, lambda: self._remove(job.id))

    def _remove(self, job_id: int) -> None:
        row = self.rows.pop(job_id, None)
        if row is not None:
            self._layout.removeWidget(row)
            row.deleteLater()
