"""The model manager: installed checkpoints with size and licence, downloads with progress and cancel,
and local model folders added by hand.

Downloads run `core.models.store.download_model` on a QThread; byte progress arrives through a tqdm
class (`progress_tqdm_class`) that forwards to a Qt signal and raises Cancelled when asked to stop.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import Qt, QThread, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import Cancelled, LoaError
from core.models.catalog import describe_size
from core.models.imported import is_original_checkpoint
from core.models.store import check_model_folder, download_model
from studio.models.checkpoint_import import CheckpointImport, ImportThread
from studio.models.choices import ModelChoice, first_run_text, model_choices
from studio.shell.file_dialogs import choose_folder
from studio.shell.gui_text import for_the_window
from studio.shell.labels import WrappingLabel
from studio.shell.settings import StudioSettings


def progress_tqdm_class(on_bytes: Callable[[int, int], None], cancel: threading.Event):
    """A tqdm class for huggingface_hub that reports (done, total) bytes and stops when `cancel` is set."""
    from tqdm.auto import tqdm

    class _SignalTqdm(tqdm):
        def __init__(self, *args, **kwargs):
            self._is_bytes = kwargs.get("unit") == "B"
            kwargs["disable"] = True  # nothing on the console; the dialog shows progress
            super().__init__(*args, **kwargs)
            self.done = int(kwargs.get("initial") or 0)

        def update(self, n=1):
            if cancel.is_set():
                raise Cancelled("download cancelled")
            self.done += int(n or 0)
            if self._is_bytes:
                on_bytes(self.done, int(self.total or 0))

        def refresh(self, *args, **kwargs):
            if cancel.is_set():
                raise Cancelled("download cancelled")

    return _SignalTqdm


class DownloadThread(QThread):
    progress = Signal(int, int)  # bytes done, bytes total (total grows as files are listed)
    succeeded = Signal(str)  # folder
    failed = Signal(str)  # one clear message
    cancelled = Signal()

    def __init__(self, model_id: str, parent=None) -> None:
        super().__init__(parent)
        self.model_id = model_id
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        try:
            folder = download_model(self.model_id, tqdm_class=progress_tqdm_class(self.progress.emit, self._cancel))
        except Cancelled:
            self.cancelled.emit()
        except LoaError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - shown as one line; the hub raises many kinds
            if self._cancel.is_set():
                self.cancelled.emit()
            else:
                first = (str(exc).strip().splitlines() or [repr(exc)])[0]  # one line; a blank first line is skipped
                self.failed.emit(f"Download of {self.model_id} failed: {first}")
        else:
            self.succeeded.emit(str(folder))


class ModelManagerDialog(CheckpointImport, QDialog):
    models_changed = Signal()
    folder_added = Signal(str)  # a local model folder the user just added: the window selects it

    COLUMNS = ("Model", "Task", "Installed", "Size", "Licence")

    def __init__(self, settings: StudioSettings, parent: Optional[QWidget] = None, engines=None) -> None:
        super().__init__(parent)
        self.setObjectName("modelManager")
        self.setWindowTitle("Models")
        self.resize(820, 380)
        self.settings = settings
        self.engines = engines  # the window's engine cache (core.generation.engine_cache): which models are loaded
        self.download: Optional[DownloadThread] = None

        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("modelTable")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)  # row numbers mean nothing here
        header = self.table.horizontalHeader()
        # The Model column takes the width left by the others: no empty area beside the table, and a long local
        # folder is elided in the middle (full path in its tooltip) instead of widening the column past the dialog.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.download_button = QPushButton("Download")
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.setEnabled(False)
        self.add_folder_button = QPushButton("Add local folder…")
        self.add_file_button = QPushButton("Add checkpoint file…")
        self.add_file_button.setToolTip("An original-format AudioLDM checkpoint (.pth), converted once into the "
                                        "model store")
        self.importing: Optional[ImportThread] = None
        self.remove_folder_button = QPushButton("Remove folder from list")
        self.progress_bar = QProgressBar()
        self.progress_bar.setVisible(False)
        self.status = WrappingLabel()  # a long folder path wraps, never widens the dialog
        self.status.setObjectName("modelStatus")
        self.resident_label = WrappingLabel()
        self.resident_label.setObjectName("residentModels")
        buttons = QHBoxLayout()
        for b in (self.download_button, self.cancel_button, self.add_folder_button, self.add_file_button,
                  self.remove_folder_button):
            buttons.addWidget(b)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.resident_label)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        layout.addWidget(close)

        self.download_button.clicked.connect(self.download_selected)
        self.cancel_button.clicked.connect(self.cancel_download)
        self.add_folder_button.clicked.connect(self._choose_folder)
        self.add_file_button.clicked.connect(self._choose_checkpoint)
        self.remove_folder_button.clicked.connect(self.remove_selected_folder)
        self.refresh()

    def refresh(self) -> None:
        self.choices = model_choices(self.settings.local_models)
        self.table.setRowCount(len(self.choices))
        for row, c in enumerate(self.choices):
            cells = (c.spec, c.task, "yes" if c.installed else "no", c.size_text, c.licence)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        if not any(c.installed for c in self.choices):
            self._say(first_run_text(in_dialog=True))
        self.show_resident()

    def show_resident(self) -> None:
        """Which models are loaded in memory now, and the budget they share (LOA_MODEL_MEMORY sets it)."""
        self.resident_label.setVisible(self.engines is not None)
        if self.engines is None:
            return
        loaded = self.engines.resident()
        try:
            budget = f" of the {describe_size(self.engines.budget())} model budget"
        except LoaError:  # a bad LOA_MODEL_MEMORY: its message shows when a model loads
            budget = ""
        if not loaded:
            self.resident_label.setText(f"Loaded in memory: none (a model loads when a job first uses it){budget and ';'}"
                                        f"{budget.replace(' of the', '')}.")
            return
        names = ", ".join(f"{Path(m).name if Path(m).is_absolute() else m} ({describe_size(b)})" for m, b in loaded)
        total = describe_size(sum(b for _, b in loaded))
        self.resident_label.setText(f"Loaded in memory: {names}; {total}{budget}. The least recently used model "
                                    "is unloaded when another would not fit.")

    def _say(self, text: str) -> None:
        self.status.setText(for_the_window(text))

    def selected(self) -> Optional[ModelChoice]:
        rows = self.table.selectionModel().selectedRows()
        return self.choices[rows[0].row()] if rows else None

    def select_model(self, spec: str) -> None:
        for row, c in enumerate(self.choices):
            if c.spec == spec:
                self.table.selectRow(row)

    # ---- download --------------------------------------------------------------------------------------
    def download_selected(self) -> None:
        choice = self.selected()
        if choice is None or choice.local:
            self._say("Choose a catalog model to download.")
            return
        if self.download is not None:
            self._say("A download is already running.")
            return
        self.download = DownloadThread(choice.spec, self)
        self.download.progress.connect(self._on_progress)
        self.download.succeeded.connect(self._on_done)
        self.download.failed.connect(self._on_failed)
        self.download.cancelled.connect(self._on_cancelled)
        self.download.finished.connect(self._on_thread_finished)
        self.progress_bar.setRange(0, 0)  # busy until the first byte totals arrive
        self.progress_bar.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.download_button.setEnabled(False)
        self._say(f"Downloading {choice.spec} ({choice.size_text})…")
        self.download.start()

    def cancel_download(self) -> None:
        if self.download is not None:
            self.download.cancel()
            self._say("Cancelling… (files already fetched are kept for next time)")

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setValue(int(1000 * min(done, total) / total))
            self.progress_bar.setFormat(f"{describe_size(done)} of {describe_size(total)}")

    def _join_download(self) -> None:
        """run() has reported and is returning: wait for it, so the dialog can never be destroyed (and abort
        the process: "QThread destroyed while running") between this report and the thread's `finished`."""
        if self.download is not None:
            self.download.wait()

    def _on_done(self, folder: str) -> None:
        self._join_download()
        self._say(f"Installed in {folder}.")
        self.refresh()
        self.models_changed.emit()

    def _on_failed(self, message: str) -> None:
        self._join_download()
        self._say(message)

    def _on_cancelled(self) -> None:
        self._join_download()
        self._say("Download cancelled. Start it again: files already fetched are kept.")

    def _on_thread_finished(self) -> None:
        self.progress_bar.setVisible(False)
        self.cancel_button.setEnabled(False)
        self.download_button.setEnabled(True)
        self.download = None

    # ---- local folders ---------------------------------------------------------------------------------
    def add_local_folder(self, folder: str) -> bool:
        """Check the folder holds a complete pipeline and add it (a .pth is converted first); say why not otherwise."""
        if Path(folder).is_file() and is_original_checkpoint(Path(folder)):
            self.add_checkpoint_file(folder)
            return True
        try:
            check_model_folder(Path(folder))
        except LoaError as exc:
            self._say(str(exc))
            return False
        resolved = str(Path(folder).resolve())
        self.settings.local_models = self.settings.local_models + [resolved]
        self._say(f"Added {resolved}; it is now selected for the modes it serves.")
        self.refresh()
        self.models_changed.emit()
        self.folder_added.emit(resolved)
        return True

    def remove_selected_folder(self) -> None:
        choice = self.selected()
        if choice is None or not choice.local:
            self._say("Choose a local folder to remove from the list (its files are not touched).")
            return
        self.settings.local_models = [f for f in self.settings.local_models if f != choice.spec]
        self.refresh()
        self.models_changed.emit()

    def _choose_folder(self) -> None:
        folder = choose_folder(self, "models", "Model folder (holding model_index.json)")
        if folder:
            self.add_local_folder(folder)

    def done(self, result: int) -> None:
        if self.importing is not None:  # stops between stages; finished components are kept
            self.importing.cancel()
            self.importing.wait(60_000)
        if self.download is not None:  # closing the dialog stops the download cleanly
            self.download.cancel()
            self.download.wait(10_000)
        super().done(result)
