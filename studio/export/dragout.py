"""Drag audio out of the window as a file, "Export..." through a dialog, and "Copy to clipboard" as a file URL.

Building the drag data and running the drag are kept apart, so tests need no mouse: `clip_mime_data` writes the file
with core.audio.formats.export and returns QMimeData holding its file URL, testable without a mouse; `start_drag` only runs
`QDrag.exec()`, which blocks under a real X server and returns at once offscreen.

    settings = ExportSettings()                                  # every field "same as source" (the default)
    mime = clip_mime_data(clip, provenance, settings)           # file in cache_dir()/dragout, URL in mime
    start_drag(widget, mime, pixmap)                            # the real drag (blocks under X11)

    # hooks for the views:
    candidates_view.set_drag_handler(entry_drag_handler(lambda: settings))     # (entry, widget) -> drag
    DragSource(library_list.viewport(), payload_at=lambda pos: DragPayload(...) or None, settings=...)
    SelectionDragButton(waveform_view, entry=lambda: current_entry, settings=...)   # drags the selection

    export_with_dialog(parent, clip, provenance, settings, folder)   # "Export...": studio.export.export_dialog, the Path
    copy_to_clipboard(clip, provenance, settings)                     # file URL (and its text) on the clipboard

Anything with `.clip` and `.provenance()` (studio.shell.clip_entry.ClipEntry) can be dragged by `entry_drag_handler`.
Errors (a bad selection, a full disk) go to `on_error(message)` as one line; nothing is raised into Qt's loop.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Union

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QSize, Qt, QUrl
from PySide6.QtGui import QDrag, QGuiApplication, QPixmap
from PySide6.QtWidgets import QApplication, QToolButton, QWidget

from core.audio.clip import Clip
from core.audio.formats.export import ExportSettings, export_clip
from core.audio.provenance import Provenance
from core.errors import LoaError
from core.paths import cache_dir

log = logging.getLogger(__name__)

SettingsSource = Union[ExportSettings, Callable[[], ExportSettings], None]
ErrorSink = Optional[Callable[[str], None]]
DRAG_PIXMAP_WIDTH = 160


@dataclass
class DragPayload:
    """What a drag carries: a clip and where it came from, optionally only start..end seconds of it."""

    clip: Clip
    provenance: Provenance
    start: Optional[float] = None
    end: Optional[float] = None
    pixmap: Optional[QPixmap] = None


def dragout_folder() -> Path:
    """Where dragged and copied files are written: <cache>/dragout (the receiving app may keep a reference)."""
    folder = cache_dir() / "dragout"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def purge_dragout(older_than_days: float = 7.0) -> int:
    """Delete drag-out files older than `older_than_days` (call at start-up); returns how many went."""
    cutoff = time.time() - older_than_days * 86_400
    removed = 0
    for path in dragout_folder().iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            pass  # in use or already gone: try again next time
    return removed


def _settings(source: SettingsSource) -> ExportSettings:
    if source is None:
        return ExportSettings()
    return source() if callable(source) else source


def clip_mime_data(clip: Clip, provenance: Provenance, export_settings: SettingsSource = None,
                   folder: str | Path | None = None, start: Optional[float] = None,
                   end: Optional[float] = None) -> QMimeData:
    """Write the clip (or start..end seconds of it) as a file and return mime data holding its file URL.

    The file has a readable name (prompt slug + seed), provenance tags and a JSON sidecar (core.audio.formats.export).
    Raises InputError for bad settings or selections, OSError when the file cannot be written.
    """
    path = export_clip(clip, provenance, _settings(export_settings), folder or dragout_folder(), start, end)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def exported_file(mime: QMimeData) -> Path:
    """The local file a mime object from clip_mime_data points at."""
    return Path(mime.urls()[0].toLocalFile())


def start_drag(widget: QWidget, mime: QMimeData, pixmap: Optional[QPixmap] = None) -> Qt.DropAction:
    """Run the drag (copy only). Blocks until the drop under X11; returns IgnoreAction at once offscreen."""
    drag = QDrag(widget)
    drag.setMimeData(mime)
    if pixmap is not None and not pixmap.isNull():
        drag.setPixmap(pixmap.scaledToWidth(min(DRAG_PIXMAP_WIDTH, pixmap.width()),
                                            Qt.TransformationMode.SmoothTransformation))
    return drag.exec(Qt.DropAction.CopyAction, Qt.DropAction.CopyAction)


def drag_payload(widget: QWidget, payload: DragPayload, settings: SettingsSource = None,
                 on_error: ErrorSink = None) -> Qt.DropAction:
    """Export the payload and drag its file from `widget`; errors go to `on_error` as one line."""
    try:
        mime = clip_mime_data(payload.clip, payload.provenance, settings, start=payload.start, end=payload.end)
    except (LoaError, OSError) as exc:
        _report(on_error, f"Cannot drag this audio out: {exc}")
        return Qt.DropAction.IgnoreAction
    return start_drag(widget, mime, payload.pixmap)


def entry_drag_handler(settings: SettingsSource = None, on_error: ErrorSink = None):
    """A `(entry, widget) -> None` hook for candidate cards and library rows (entries have .clip, .provenance())."""

    def handler(entry, widget: QWidget) -> None:
        drag_payload(widget, DragPayload(entry.clip, entry.provenance(), pixmap=widget.grab()), settings, on_error)

    return handler


def export_with_dialog(parent: Optional[QWidget], clip: Clip, provenance: Provenance,
                       settings: SettingsSource = None, folder: str | Path | None = None,
                       start: Optional[float] = None, end: Optional[float] = None,
                       on_error: ErrorSink = None, memory=None) -> Optional[Path]:
    """"Export...": the export dialog (studio.export.export_dialog: name, folder, format with "Same as source" as the
    default and what it resolves to), then the file is written; None when cancelled or after reporting an error.
    `settings` (Settings > Export format) sets where the dialog's choices start; `memory` (StudioSettings) gives
    the last export's choices and folder and keeps this one's once its file is written."""
    from studio.export.export_dialog import ExportDialog, choice_for_path

    remembered = None
    if memory is not None:
        folder, remembered = memory.export_folder, memory.last_export_choice()
    dialog = ExportDialog(parent, clip, provenance, _settings(settings), folder, start, end, remembered)
    try:
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return None
        path = dialog.path()
        asked = dialog.choice()  # what the fields say: one left at "Same as source" stays so in memory
        choice = choice_for_path(asked, path)
    finally:
        dialog.deleteLater()
    try:
        written = export_clip(clip, provenance, choice, path=path, start=start, end=end,
                              overwrite=True)  # the dialog already asked about replacing
    except (LoaError, OSError) as exc:
        _report(on_error, f"Cannot export {path.name}: {exc}")
        return None
    if memory is not None:
        memory.remember_export(asked, written.parent)
    return written


def copy_to_clipboard(clip: Clip, provenance: Provenance, settings: SettingsSource = None,
                      start: Optional[float] = None, end: Optional[float] = None,
                      on_error: ErrorSink = None) -> Optional[Path]:
    """Write the file to the drag-out folder and put its file URL on the clipboard (file managers and DAWs
    paste it as a file; text fields get the URL). Returns the file, or None after reporting an error."""
    try:
        mime = clip_mime_data(clip, provenance, settings, start=start, end=end)
    except (LoaError, OSError) as exc:
        _report(on_error, f"Cannot copy this audio: {exc}")
        return None
    mime.setText(mime.urls()[0].toString())
    QGuiApplication.clipboard().setMimeData(mime)
    return exported_file(mime)


class DragSource(QObject):
    """Makes any widget a drag source: press, move past the drag distance, and `payload_at(press_pos)` is dragged.

    Install on the widget that receives the mouse (for item views: their viewport()). `payload_at` returns None
    where there is nothing to drag (the press then behaves as usual).
    """

    def __init__(self, widget: QWidget, payload_at: Callable[[QPoint], Optional[DragPayload]],
                 settings: SettingsSource = None, on_error: ErrorSink = None):
        super().__init__(widget)
        self.widget = widget
        self.payload_at = payload_at
        self.settings = settings
        self.on_error = on_error
        self._press: Optional[QPoint] = None
        widget.installEventFilter(self)

    def mime_data(self, pos: QPoint) -> Optional[QMimeData]:
        """The mime data a drag starting at `pos` would carry (None: nothing to drag there)."""
        payload = self.payload_at(pos)
        if payload is None:
            return None
        return clip_mime_data(payload.clip, payload.provenance, self.settings, start=payload.start, end=payload.end)

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
        elif kind == QEvent.Type.MouseMove and self._press is not None:
            if (event.buttons() & Qt.MouseButton.LeftButton and
                    (event.position().toPoint() - self._press).manhattanLength() >= QApplication.startDragDistance()):
                press, self._press = self._press, None
                payload = self.payload_at(press)
                if payload is not None:
                    drag_payload(self.widget, payload, self.settings, self.on_error)
                    return True
        elif kind == QEvent.Type.MouseButtonRelease:
            self._press = None
        return False


class SelectionDragButton(QToolButton):
    """A handle beside a WaveformView: drag it to drag out the selected range (the whole clip without one)."""

    def __init__(self, view, entry: Callable[[], object], settings: SettingsSource = None,
                 on_error: ErrorSink = None, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("selectionDragButton")
        self.setText("Drag selection")
        self.setToolTip("Drag onto your DAW or desktop to export the selected range (the whole clip if none).")
        self.view = view
        self.entry = entry
        self.source = DragSource(self, self.payload, settings, on_error)
        view.selection_changed.connect(self._update_text)
        self._update_text(view.selection())

    def payload(self, _pos: QPoint = QPoint()) -> Optional[DragPayload]:
        entry = self.entry()
        if entry is None:
            return None
        selection = self.view.selection()
        start, end = selection if selection is not None else (None, None)
        return DragPayload(entry.clip, entry.provenance(), start, end, pixmap=self.view.grab())

    def _update_text(self, selection) -> None:
        self.setText("Drag selection" if selection is not None else "Drag clip")

    def sizeHint(self) -> QSize:
        """As wide as its longer wording: selecting never changes the row's width (nor the window's)."""
        hint = super().sizeHint()
        metrics = self.fontMetrics()
        extra = max(metrics.horizontalAdvance(t) for t in ("Drag selection", "Drag clip")) \
            - metrics.horizontalAdvance(self.text())
        return QSize(hint.width() + extra, hint.height())

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()


def _report(on_error: ErrorSink, message: str) -> None:
    message = " ".join(message.split())
    if on_error is not None:
        on_error(message)
    else:
        log.warning(message)


def attach(window) -> None:
    """Candidate cards, library rows and the waveform selection of the main window drag out as files; File >
    Export… and Copy to clipboard use the same export settings."""
    import studio.export.dragout as dragout

    window.dragout = dragout
    export_settings = window.settings.export_settings
    window.candidates.set_drag_handler(entry_drag_handler(export_settings, window.show_error))
    window.library_drag = DragSource(window.library_panel.list.viewport(), window._library_payload_at,
                                     export_settings, window.show_error)
    if window.waveform is not None:
        window.selection_drag = SelectionDragButton(window.waveform, window.selected_entry, export_settings,
                                                    window.show_error)
        window.waveform_bar.addWidget(window.selection_drag)
    window.export_action.triggered.connect(window.export_selected)
    window.copy_action.triggered.connect(window.copy_selected)
