"""Opening audio files in the editor: File > Open… and files dropped onto the window.

Each file is read first (core.audio.clip.load_clip: WAV, FLAC, OGG/Vorbis, Opus, AIFF, MP3 where libsndfile has
it); only a file that reads is added to the library, so an unreadable one changes nothing and gives one line.
The clip keeps its own rate and channels; the file's container and sample format are recorded so that export can
offer "same as source".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from PySide6.QtCore import QEvent, QObject, Qt, QUrl
from PySide6.QtWidgets import QApplication, QWidget

from core.audio.clip import Clip, load_clip
from core.audio.formats.source import source_file_settings
from core.errors import LoaError
from core.library.store import Library
from studio.shell.clip_entry import ClipEntry

IMPORT_MODE = "import"
FILE_FILTER = "Audio files (*.wav *.flac *.ogg *.oga *.opus *.aiff *.aif *.mp3);;All files (*)"


@dataclass
class ImportReport:
    entries: list[ClipEntry] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def message(self) -> str:
        parts = []
        if self.entries:
            names = ", ".join(e.settings.get("source_name", "") for e in self.entries)
            parts.append(f"Opened {names} in the editor and the library.")
        parts += self.errors
        return " ".join(parts)


def import_file(path: str | Path, library: Library) -> ClipEntry:
    """Read `path` and store it in the library as an imported clip; InputError (nothing stored) if it cannot be read."""
    path = Path(path)
    clip: Clip = load_clip(path)
    settings = {"imported_from": str(path.resolve()), "source_name": path.name, **source_file_settings(path)}
    if clip.repaired_samples:
        settings["repaired_samples"] = clip.repaired_samples
    item = library.add(clip, prompt=path.stem, mode=IMPORT_MODE, model="", licence="", settings=settings)
    entry = ClipEntry.from_library(item)
    entry.clip = clip  # the samples as read (the library copy is float WAV: the same values)
    return entry


def import_files(paths: Iterable[str | Path], library: Library) -> ImportReport:
    report = ImportReport()
    for path in paths:
        try:
            report.entries.append(import_file(path, library))
        except LoaError as exc:  # load_clip's message names the file and the fix
            report.errors.append(str(exc))
        except OSError as exc:
            report.errors.append(f"Cannot store {Path(path).name} in the library: {exc}")
    return report


def local_paths(urls: Iterable[QUrl]) -> list[Path]:
    return [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]


class DropImporter(QObject):
    """Lets `window` take local files dropped anywhere on it and hands their paths to `on_paths`.

    It filters the application's events because the drop goes to the widget under the pointer (the waveform's
    graphics view, a text field...), not to the window."""

    def __init__(self, window, on_paths) -> None:
        super().__init__(window)  # removed with the window
        self._window, self._on_paths = window, on_paths
        window.setAcceptDrops(True)
        QApplication.instance().installEventFilter(self)

    def _ours(self, watched) -> bool:
        return isinstance(watched, QWidget) and watched.window() is self._window

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop) or not self._ours(watched):
            return False
        paths = local_paths(event.mimeData().urls()) if event.mimeData().hasUrls() else []
        if not paths or event.source() is not None:  # our own drag-outs are not imports
            return False
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        if kind == QEvent.Type.Drop:
            self._on_paths(paths)
        return True
