"""The job list: one row per queued or running job with its progress bar (denoising step n of N), elapsed time,
an estimate from the last runs on this device, and a Cancel button. Finished jobs move into a collapsible
history (newest first) instead of vanishing."""

from __future__ import annotations

import time
from typing import Optional

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.generation.job_times import JobTimes
from core.generation.progress import Progress
from studio.jobs.job_queue import Job, JobQueue

HISTORY_ROWS = 20  # finished jobs kept in the history

STAGE_TEXT = {"loading": "loading model", "encoding": "reading the prompt", "denoising": "denoising",
              "decoding": "decoding", "scoring": "scoring"}


SHORT_STAGE_TEXT = {"loading": "loading", "encoding": "prompt"}


def progress_text(progress: Progress) -> str:
    return progress_texts(progress)[0]


def progress_texts(progress: Progress) -> list[str]:
    """The bar's wordings, fullest first: a narrow row shows a shorter one instead of a cut one."""
    stage = STAGE_TEXT.get(progress.stage, progress.stage)
    if progress.stage == "denoising":
        return [f"{stage}: step {progress.step} of {progress.total}", f"step {progress.step} of {progress.total}",
                f"{progress.step}/{progress.total}"]
    return [stage, SHORT_STAGE_TEXT.get(progress.stage, stage)]


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class ElidedLabel(QLabel):
    """A one-line label that ends in … when cut; the whole text is in the tooltip."""

    def __init__(self, text: str, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.full_text = text
        self.setToolTip(text)
        self.setMinimumWidth(80)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._elide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight, max(20, self.width())))


class FittingProgressBar(QProgressBar):
    """A progress bar whose text is the fullest of its wordings that fits (never one cut or wrapped); the tooltip
    has the fullest."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._texts = [""]

    def set_texts(self, texts: list[str]) -> None:
        self._texts = [t for t in texts if t] or [""]
        self.setToolTip(self._texts[0])
        self._fit()

    def _room(self) -> int:
        return self.width() - 12  # the style's padding around the text

    def _fit(self) -> None:
        metrics = self.fontMetrics()
        self.setFormat(next((t for t in self._texts if metrics.horizontalAdvance(t) <= self._room()),
                            self._texts[-1]))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(max(hint.width(), self.fontMetrics().horizontalAdvance("00/000") + 12), hint.height())


class JobRow(QWidget):
    def __init__(self, job: Job, queue: JobQueue, estimate: Optional[float] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobRow")
        self.job = job
        self.estimate = estimate
        self.started_at: Optional[float] = None
        self.title = ElidedLabel(job.spec.describe())
        self.bar = FittingProgressBar()
        self.bar.setObjectName("jobProgress")
        self.bar.setRange(0, max(1, job.spec.request.steps))
        self.bar.setValue(0)
        self.bar.set_texts(["queued"])
        self.time_label = QLabel(f"about {clock(estimate)}" if estimate else "")
        self.time_label.setObjectName("jobTime")
        self.time_label.setToolTip("Elapsed, and the estimate from the measured runs of this model at this length (its bucket) on this device")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("jobCancel")
        self.cancel_button.clicked.connect(lambda: queue.cancel(job.id))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title, 3)
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.time_label)
        layout.addWidget(self.cancel_button)

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.bar.set_texts(["starting"])
        self.tick()

    def elapsed(self) -> float:
        return time.monotonic() - self.started_at if self.started_at is not None else 0.0

    def tick(self) -> None:
        if self.started_at is None:
            return
        text = clock(self.elapsed())
        if self.estimate:
            left = self.estimate - self.elapsed()
            text += f" · ~{clock(left)} left" if left > 0 else " · almost done"
        self.time_label.setText(text)

    def show_progress(self, progress: Progress) -> None:
        if progress.stage == "denoising":
            self.bar.setRange(0, max(1, progress.total))
            self.bar.setValue(progress.step)
        elif progress.stage in ("decoding", "scoring"):
            self.bar.setValue(self.bar.maximum())
        self.bar.set_texts(progress_texts(progress))

    def show_done(self, text: str) -> None:
        self.bar.set_texts([text])
        if text == "done":
            self.bar.setValue(self.bar.maximum())
        self.time_label.setText(f"took {clock(self.elapsed())}" if self.started_at is not None else "")
        self.started_at = None
        self.cancel_button.setVisible(False)


class JobListView(QWidget):
    def __init__(self, queue: JobQueue, times: Optional[JobTimes] = None, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobList")
        self.queue = queue
        self.times = times
        self.rows: dict[int, JobRow] = {}
        self._active = QVBoxLayout()
        self.history_button = QToolButton()
        self.history_button.setObjectName("jobHistoryToggle")
        self.history_button.setCheckable(True)
        self.history_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.history_button.setArrowType(Qt.ArrowType.RightArrow)
        self.history_button.setAutoRaise(True)
        self.history_button.setVisible(False)
        self.history = QWidget()
        self.history.setObjectName("jobHistory")
        self._history = QVBoxLayout(self.history)
        self._history.setContentsMargins(12, 0, 0, 0)
        self.history.setVisible(False)
        self.history_button.toggled.connect(self._show_history)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self._active)
        layout.addWidget(self.history_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.history)
        self._clock = QTimer(self, interval=1000)
        self._clock.timeout.connect(self._tick)
        queue.job_added.connect(self._on_added)
        queue.job_started.connect(self._on_started)
        queue.job_progress.connect(lambda job, p: self._row(job) and self._row(job).show_progress(p))
        queue.job_finished.connect(self._on_finished)
        queue.job_failed.connect(lambda job, _m: self._done(job, "failed"))
        queue.job_cancelled.connect(lambda job: self._done(job, "cancelled"))

    def _row(self, job: Job) -> Optional[JobRow]:
        return self.rows.get(job.id)

    @staticmethod
    def _size(job: Job) -> tuple:
        """(model, seconds, steps, candidates): what the measured times are kept and looked up by (per bucket)."""
        request = job.spec.request
        return job.spec.model, request.seconds, request.steps, request.candidates

    def _on_added(self, job: Job) -> None:
        estimate = self.times.estimate(*self._size(job)) if self.times else None
        row = JobRow(job, self.queue, estimate)
        self.rows[job.id] = row
        self._active.addWidget(row)

    def _on_started(self, job: Job) -> None:
        row = self._row(job)
        if row is not None:
            row.start()
            self._clock.start()

    def _on_finished(self, job: Job, _result) -> None:
        row = self._row(job)
        if row is not None and row.started_at is not None and self.times is not None:
            self.times.record(*self._size(job), row.elapsed())
        self._done(job, "done")

    def _tick(self) -> None:
        running = [row for row in self.rows.values() if row.started_at is not None]
        for row in running:
            row.tick()
        if not running:
            self._clock.stop()

    def _done(self, job: Job, text: str) -> None:
        row = self._row(job)
        if row is None or row.parent() is self.history:
            return
        row.show_done(text)
        self._active.removeWidget(row)
        self._history.insertWidget(0, row)  # newest first
        while self._history.count() > HISTORY_ROWS:
            old = self._history.takeAt(self._history.count() - 1).widget()
            self.rows.pop(old.job.id, None)
            old.deleteLater()
        self.history_button.setVisible(True)
        self.history_button.setText(f"History ({self._history.count()})")

    def history_rows(self) -> list[JobRow]:
        return [self._history.itemAt(i).widget() for i in range(self._history.count())]

    def _show_history(self, shown: bool) -> None:
        self.history.setVisible(shown)
        self.history_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
