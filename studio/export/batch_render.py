"""File > Batch render…: a job file checked and shown (every bad row with its line), rendered into a folder by
core.batch on a worker thread with progress and Cancel (which stops after the files in flight; rendering again
resumes), each file added to the library with the batch name in its settings (`batch`, searchable)."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.audio.clip import load_clip
from core.audio.provenance import sidecar_path
from core.errors import LoaError, first_line
from core.wording import counted
from studio.export.format_picker import FormatPicker
from studio.shell.file_dialogs import open_file
from studio.shell.gui_text import for_the_window, wrappable
from studio.shell.labels import WrappingLabel

JOB_FILTER = "Job files (*.csv *.jsonl *.ndjson);;All files (*)"


class _Signals(QObject):
    progress = Signal(object)  # Stats
    written = Signal(str, list)  # mode, paths
    finished = Signal(object, str)  # Stats or None, error text ("" when none)


class BatchRenderDialog(QDialog):
    def __init__(self, job_path: Path, engines, library, device: str = "auto",
                 parent: Optional[QWidget] = None, default_models: Optional[dict[str, str]] = None) -> None:
        super().__init__(parent)
        from core.batch.jobs import read_jobs
        from core.batch.runner import StopFlag

        self.default_models = {m: s for m, s in (default_models or {}).items() if m in ("sound", "music", "speech")}
        self.job = read_jobs(job_path, self.default_models or None)  # rows without a model: the window's pick
        self.engines, self.library, self.device = engines, library, device
        self.out = job_path.with_suffix("")  # sfx.csv renders into sfx/ beside it
        self.stop = StopFlag()
        self.added: list = []
        self.max_batch: Optional[int] = None  # variations per denoising batch (None: memory-safe default)
        self.on_added = None  # called after library items were added (the window refreshes its library)
        self.running = False
        self.setWindowTitle(f"Batch render — {job_path.name}")
        files = sum(row.count for row in self.job.rows)
        bad = len(self.job.errors)
        self.summary = QLabel(f"{counted(len(self.job.rows), 'good row')}, {counted(files, 'file')} to render"
                              + (f"; {counted(bad, 'bad row')} will be skipped:" if bad else "."))
        self.summary.setWordWrap(True)
        self.model_line = WrappingLabel(_default_models_text(self.default_models))
        self.model_line.setObjectName("batchDefaultModels")
        self.errors = QListWidget()  # each bad row whole: wrapped, never cut at the right edge
        self.errors.setWordWrap(True)
        self.errors.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.errors.setResizeMode(QListWidget.ResizeMode.Adjust)
        for error in self.job.errors:
            text = for_the_window(str(error))  # names Models… instead of `loa models download`
            self.errors.addItem(wrappable(text))
            self.errors.item(self.errors.count() - 1).setToolTip(text)
        self.errors.setVisible(bool(self.job.errors))
        self.folder = WrappingLabel()
        change = QPushButton("Change…")
        change.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(change)
        self.format_picker = FormatPicker(name="batchFormat")  # File > Export…'s formats, as `loa batch --format`
        self.format_picker.changed.connect(self._update_render_button)
        self.bar = QProgressBar()
        self.bar.setRange(0, max(files, 1))
        self.status = WrappingLabel("Files already rendered in the folder with the same settings are kept.")
        self.buttons = QDialogButtonBox()
        self.render_button = self.buttons.addButton("Render", QDialogButtonBox.ButtonRole.AcceptRole)
        self._update_render_button()
        self.cancel_button = self.buttons.addButton("Close", QDialogButtonBox.ButtonRole.RejectRole)
        self.render_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self._cancel_or_close)
        layout = QVBoxLayout(self)
        for widget in (self.summary, self.model_line, self.errors):
            layout.addWidget(widget)
        layout.addLayout(folder_row)
        layout.addWidget(self.format_picker)
        for widget in (self.bar, self.status, self.buttons):
            layout.addWidget(widget)
        self._signals = _Signals(self)
        self._signals.progress.connect(self._on_progress)
        self._signals.written.connect(self._on_written)
        self._signals.finished.connect(self._on_finished)
        self._show_folder()
        self.resize(max(self.sizeHint().width(), 600), self.sizeHint().height())  # bad rows read in one or two lines

    def _show_folder(self) -> None:
        self.folder.setText(f"Output folder: {self.out}")
        self.folder.setToolTip(str(self.out))

    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Render into folder", str(self.out.parent))
        if chosen:
            self.out = Path(chosen)
            self._show_folder()

    def _update_render_button(self) -> None:
        self.render_button.setEnabled(bool(self.job.rows) and not self.running and not self.format_picker.problem())

    def _with_format(self) -> bool:
        """Give every row the picked format; False (said in the status line) when a row's own extension cannot
        take it (a `.mp3` pattern with 24-bit)."""
        from core.audio.formats.take import for_path
        from core.errors import InputError

        choice = self.format_picker.choice()
        rows = [dataclasses.replace(row, output_format=choice) for row in self.job.rows]
        for row in rows:
            try:
                for_path(choice, Path(str(row.relative_path(row.seed))))
            except InputError as exc:
                self.status.setText(f"Cannot render line {row.line} this way: {exc}")
                return False
        self.job = dataclasses.replace(self.job, rows=rows)
        return True

    def start(self) -> None:
        """Render on a worker thread; signals carry progress and each landed file back to the GUI thread."""
        if not self._with_format():
            return
        self.format_picker.setEnabled(False)
        self.running = True
        self.render_button.setEnabled(False)
        self.cancel_button.setText("Cancel")
        self.status.setText("Loading the model…")
        threading.Thread(target=self._work, name="batch-render", daemon=True).start()

    def _work(self) -> None:  # worker thread: touches no widgets
        from core.batch.plan import plan_batch
        from core.batch.runner import batch_lock, run_plan

        try:
            with batch_lock(self.out):
                plan = plan_batch(self.job, self.out, self.engines.get(self.job.rows[0].model).device.type,
                                   self.max_batch)
                self._signals.progress.emit(_initial_stats(plan))
                stats = run_plan(plan, self.stop, pool=self.engines, on_progress=self._signals.progress.emit,
                                 on_written=lambda unit, paths: self._signals.written.emit(unit.row.mode, paths))
            self._signals.finished.emit(stats, "")
        except LoaError as exc:
            self._signals.finished.emit(None, first_line(exc))
        except Exception as exc:  # noqa: BLE001 - shown in the dialog, never a crash of the window
            self._signals.finished.emit(None, f"{type(exc).__name__}: {first_line(exc)}")

    def _on_progress(self, stats) -> None:
        self.bar.setMaximum(max(stats.total, 1))
        self.bar.setValue(stats.done)
        self.status.setText(stats.line().split("] ", 1)[-1])

    def _on_written(self, mode: str, paths: list) -> None:
        for path in paths:
            record = json.loads(sidecar_path(path).read_text())
            self.added.append(self.library.add(
                load_clip(path), prompt=record["prompt"], mode=mode, model=record["model_id"],
                licence=record["licence"], seed=record["seed"], score=record["score"], settings=record["settings"]))
        if self.on_added is not None:
            self.on_added()

    def _on_finished(self, stats, error: str) -> None:
        self.running = False
        self.format_picker.setEnabled(True)
        self.cancel_button.setText("Close")
        self._update_render_button()
        self.render_button.setText("Render again")
        if error:
            self.status.setText(f"Stopped: {error}")
        elif stats.stopped or self.stop():
            self.status.setText(f"Cancelled after {stats.done}/{stats.total} files; Render again resumes. "
                                f"{len(self.added)} added to the library.")
        else:
            self.status.setText(f"Done: {stats.rendered} rendered, {stats.already_done} already there, in "
                                f"{self.out}. {len(self.added)} added to the library (search “{self.job.name}”).")
        self.stop = type(self.stop)()

    def _cancel_or_close(self) -> None:
        if self.running:
            self.stop.set()
            self.status.setText("Stopping after the files in flight…")
            self.cancel_button.setEnabled(True)
        else:
            self.reject()

    def closeEvent(self, event) -> None:  # closing the window while rendering cancels, like Cancel
        if self.running:
            self.stop.set()
        super().closeEvent(event)


def _default_models_text(models: dict[str, str]) -> str:
    if not models:
        return "Rows without a model column use each mode's default model."
    names = {spec: Path(spec).name if Path(spec).is_absolute() else spec for spec in models.values()}
    if len(set(models.values())) == 1:
        return f"Rows without a model use {names[next(iter(models.values()))]}, the model picked in the window."
    per_mode = "; ".join(f"{mode}: {names[spec]}" for mode, spec in models.items())
    return f"Rows without a model use the model picked in the window for their mode ({per_mode})."


def _initial_stats(plan):
    from core.batch.runner import Stats

    return Stats(plan.total_files, plan.done_files)


def open_batch_render(window) -> Optional[BatchRenderDialog]:
    """File > Batch render…: pick a job file, then the dialog shows its check and renders it."""
    name = open_file(window, "batch", "Batch render: open a job file", JOB_FILTER)
    if not name:
        return None
    try:
        dialog = BatchRenderDialog(Path(name), window.jobs.engines, window.library, parent=window,
                                   default_models=window.generation_panel.installed_picks())
    except LoaError as exc:
        window.show_message(first_line(exc))
        return None
    dialog.on_added = window.library_panel.refresh
    dialog.show()
    window.batch_dialog = dialog
    return dialog
