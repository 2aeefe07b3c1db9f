"""The model manager: installed checkpoints with size and licence, downloads with progress and cancel,
and local model folders added by hand.

Downloads run `core.models.store.download_model` on a QThread; byte progress arrives through a tqdm
class (`progress_tqdm_class`) that forwards to a Qt signal and raises Cancelled when asked to stop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
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

from core.audio.clip import MODEL_RATE
from core.audio.formats.containers import rate_label
from core.errors import Cancelled, LoaError
from core.models.catalog import CATALOG, describe_size
from core.models.imported import cached_original, is_original_checkpoint
from core.models.loading import is_speech_folder
from core.models.store import check_model_folder, download_model, installed_models, read_card_licence
from studio.models.checkpoint_import import CheckpointImport, ImportThread, converted_title
from studio.shell.file_dialogs import choose_folder
from studio.shell.gui_text import for_the_window
from studio.shell.labels import WrappingLabel
from studio.shell.settings import StudioSettings


@dataclass(frozen=True)
class ModelChoice:
    """A model the user can pick: a catalog id (installed or not) or a local folder."""

    spec: str  # what Engine() takes: hub id or folder path
    title: str
    task: str  # "sound", "music", "speech", or "any" for local text-to-audio folders
    installed: bool
    size_bytes: Optional[int]
    licence: str
    local: bool = False
    sample_rate: Optional[int] = None  # the rate its takes are made at, shown in the picker ("48 kHz")

    def suits(self, task: str) -> bool:
        if self.task == "speech" or task == "speech":
            return self.task == task
        return True  # sound and music checkpoints both do text-to-audio; the catalog default comes first

    @property
    def size_text(self) -> str:
        return describe_size(self.size_bytes) if self.size_bytes else "size unknown"

    @property
    def label(self) -> str:
        state = "" if self.installed else f"  — not installed, {self.size_text}"
        rate = f" · {rate_label(self.sample_rate)}" if self.sample_rate else ""
        return f"{self.title}{rate}{state}"

    @classmethod
    def for_spec(cls, spec: str) -> "ModelChoice":
        info = CATALOG.get(spec)
        if info is not None:
            return cls(spec, info.id, info.task, False, info.download_bytes, info.licence,
                       sample_rate=getattr(info, "sample_rate", MODEL_RATE))
        return cls(spec, spec, "any", Path(spec).is_dir(), None, "unknown", local=True,
                   sample_rate=folder_rate(Path(spec)))


def local_choice(folder: str) -> ModelChoice:
    path = Path(folder)
    try:
        task = "speech" if is_speech_folder(path) else "any"
    except (OSError, ValueError):
        task = "any"
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else None
    return ModelChoice(str(path), converted_title(path) or f"{path.name} (local folder)", task, path.is_dir(), size,
                       read_card_licence(path) or "unknown (see the model card)", local=True)


def model_choices(local_folders: list[str]) -> list[ModelChoice]:
    """Every catalog model (with what is installed), other installed AudioLDM 2 models, and local folders."""
    installed = {m.id: m for m in installed_models()}
    choices = []
    for info in CATALOG.values():
        have = installed.pop(info.id, None)
        if info.is_original_format:  # one .pth in the hub cache, converted on first use
            have = _Have(cached.stat().st_size) if (cached := cached_original(info)) else None
        choices.append(ModelChoice(info.id, info.id, info.task, have is not None,
                                   have.size_bytes if have else info.download_bytes, info.licence))
    for extra in installed.values():
        choices.append(ModelChoice(extra.id, extra.id, "any", True, extra.size_bytes,
                                   read_card_licence(extra.folder) or "unknown (see the model card)"))
    choices += [local_choice(f) for f in local_folders]
    return [with_rate(c, {e.id: e.folder for e in installed.values()}) for c in choices]


@dataclass(frozen=True)
class _Have:
    size_bytes: int


def has_usable_model(local_folders: list[str]) -> bool:
    return any(c.installed for c in model_choices(local_folders))


def with_rate(choice: ModelChoice, folders: dict) -> ModelChoice:
    """The choice with the rate its takes are made at: the catalog's, else the folder's vocoder config's."""
    info = CATALOG.get(choice.spec)
    if info is not None:
        return replace(choice, sample_rate=getattr(info, "sample_rate", MODEL_RATE))
    return replace(choice, sample_rate=folder_rate(Path(folders.get(choice.spec, choice.spec))))


def folder_rate(folder: Path) -> Optional[int]:
    """The rate a model folder's vocoder states, or None for a folder that is not there or holds no model."""
    from core.models.geometry import folder_geometry

    if not (folder / "vocoder").is_dir():
        return None
    return folder_geometry(folder).rate


def first_run_text(in_dialog: bool = False) -> str:
    """What a new user reads when no model is installed: what to download and how big it is."""
    where = ("Select one and press Download, or add a local model folder:" if in_dialog else
             "Download one in Models…, or add a local model folder there:")
    lines = ["No model is installed yet, so generation is off. The library and the editor still work.", where]
    for info in CATALOG.values():
        lines.append(f"  • {info.id} — {info.title}, {describe_size(info.download_bytes)}, licence {info.licence}")
    return "\n".join(lines)


def first_run_summary() -> str:
    """The first-run note for the window: generation is off, and every checkpoint with what it is for and its size
    (as the README and docs/models.md promise), short enough to wrap into a few lines at 1024 px; first_run_text is its tooltip."""
    checkpoints = "; ".join(f"{info.id} — {_purpose(info)}, {describe_size(info.download_bytes)}"
                            for info in CATALOG.values())
    return ("No model is installed: generation is off (the library and the editor work). Open Models… to download "
            f"one or to add a local model folder. Checkpoints: {checkpoints}.")


def _purpose(info) -> str:
    """"sound effects and general audio" from "AudioLDM 2 (sound effects and general audio)"."""
    title = info.title
    return title[title.index("(") + 1:title.rindex(")")] if "(" in title and title.endswith(")") else info.task


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
