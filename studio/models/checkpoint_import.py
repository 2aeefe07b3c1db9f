"""Adding an original-format AudioLDM checkpoint (.pth) in the model manager: converted once into the model store
(core.models.imported) on a QThread, with stage progress; the converted folder is then added like a local folder."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QThread, Signal

from core.errors import Cancelled, LoaError
from core.models.imported import import_checkpoint
from studio.shell.file_dialogs import open_file

CHECKPOINT_FILTER = "Original AudioLDM checkpoints (*.pth *.ckpt *.pt)"


class ImportThread(QThread):
    progress = Signal(str, float)  # stage, fraction of the whole
    succeeded = Signal(str)  # the converted folder
    failed = Signal(str)  # one clear line
    cancelled = Signal()

    def __init__(self, path: str, parent=None) -> None:
        super().__init__(parent)
        self.path = path
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def _report(self, stage: str, fraction: float) -> None:
        if self._cancel.is_set():  # stops between stages; whole components are kept for the next try
            raise Cancelled("conversion cancelled")
        self.progress.emit(stage, fraction)

    def run(self) -> None:
        try:
            folder = import_checkpoint(Path(self.path), progress=self._report)
        except Cancelled:
            self.cancelled.emit()
        except LoaError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - reported as one line, never a dead thread
            first = (str(exc).strip().splitlines() or [repr(exc)])[0]
            self.failed.emit(f"Converting {Path(self.path).name} failed: {first}")
        else:
            self.succeeded.emit(str(folder))


def converted_title(folder: Path) -> Optional[str]:
    """"audioldm_48k.pth (converted)" for a store folder made from a checkpoint file; None for other folders."""
    try:
        source = json.loads((Path(folder) / "loa_source.json").read_text())
        return f"{source['file']} (converted)" if isinstance(source, dict) and source.get("file") else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


class CheckpointImport:
    """The model manager's "Add checkpoint file…": a mixin of ModelManagerDialog (uses its progress bar, status
    line and add_local_folder)."""

    def add_checkpoint_file(self, path: str) -> None:
        """Convert the checkpoint once into the model store (off the GUI thread), then add the converted folder."""
        if self.importing is not None:
            self._say("A checkpoint is already being converted.")
            return
        self.importing = ImportThread(path, self)
        self.importing.progress.connect(self._on_import_progress)
        self.importing.succeeded.connect(self._on_imported)
        self.importing.failed.connect(self._on_import_failed)
        self.importing.cancelled.connect(lambda: self._say("Conversion cancelled; finished parts are kept."))
        self.importing.finished.connect(self._on_import_finished)
        self.add_file_button.setEnabled(False)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setValue(0)
        self.progress_bar.setVisible(True)
        self._say(f"Converting {Path(path).name} once into the model store…")
        self.importing.start()

    def _on_import_progress(self, stage: str, fraction: float) -> None:
        self.progress_bar.setValue(int(1000 * fraction))
        self.progress_bar.setFormat(f"{stage} {int(100 * fraction)}%")

    def _on_imported(self, folder: str) -> None:
        if self.importing is not None:
            self.importing.wait()
        self.add_local_folder(folder)

    def _on_import_failed(self, message: str) -> None:
        if self.importing is not None:
            self.importing.wait()
        self._say(message)

    def _on_import_finished(self) -> None:
        self.progress_bar.setVisible(self.download is not None)
        self.add_file_button.setEnabled(True)
        self.importing = None

    def _choose_checkpoint(self) -> None:
        path = open_file(self, "models", "Original AudioLDM checkpoint", CHECKPOINT_FILTER)
        if path:
            self.add_checkpoint_file(path)

