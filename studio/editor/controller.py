"""EditorController: the clip being edited in the window, its persisted edit session, undo/redo and versions.

The waveform view shows an entry (a take or library item). The first edit opens a core.editing.EditSession for it
(every step is on disk as it happens); the edited audio is a new ClipEntry, never the original's. "Save as new
version" stores it in the library as a version of the original (provenance: source entry + operations).
Switching to another clip closes the session, keeping its history: showing that clip again reopens it.
Operations on long clips run on a worker thread; the window stays responsive and the edit actions wait.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Callable, Optional

from PySide6.QtCore import QObject, Signal

from core.audio.clip import Clip
from core.audio.formats.source import FORMAT_KEY, SUBTYPE_KEY
from core.editing import EditResult, EditSession, Selection, list_sessions, snap_to_zero_crossings
from core.errors import LoaError
from core.library.store import Library
from studio.shell.clip_entry import ClipEntry
from studio.waveform.waveform_view import WaveformView

log = logging.getLogger(__name__)

THREAD_SAMPLES = 500_000  # clips with more samples than this (about 5 s of 48 kHz stereo) edit off the GUI thread


class EditorController(QObject):
    clip_changed = Signal(object)    # the ClipEntry now shown (edited or not)
    state_changed = Signal()         # undo/redo/dirty/busy changed: actions re-check what they can do
    message = Signal(str)
    error = Signal(str)
    library_changed = Signal()       # a version (or the original of a fresh take) was stored
    _finished = Signal(object, object, object)  # worker -> GUI thread: (result or None, error text, callback)

    def __init__(self, view: WaveformView, library: Library, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.view, self.library = view, library
        self.origin: Optional[ClipEntry] = None   # what the user opened (take or library item)
        self.entry: Optional[ClipEntry] = None    # what is shown: the origin, or its edited version
        self.session: Optional[EditSession] = None
        self.clipboard: Optional[Clip] = None
        self.snap_to_zero = False
        self.busy = False
        self._working = ""  # the label of a long edit running on the worker
        self._finished.connect(self._on_finished)

    # ---- what is shown ---------------------------------------------------------------------------------
    def show_entry(self, entry: Optional[ClipEntry]) -> None:
        """Show a take or library item; the clip being edited is closed (history kept) unless it is this one,
        and a clip edited earlier comes back with its history."""
        if entry is not None and self.session is not None and self._is_current(entry):
            self._show(self.entry, keep_view=True)
            return
        self.close_clip()
        self.origin = self.entry = entry
        previous = self._earlier_session(entry) if entry is not None else None
        if previous is not None:
            self._adopt(previous)
            self.message.emit(f"Reopened your edits of “{entry.prompt or 'this clip'}” "
                              f"({previous.position} step{'s' if previous.position != 1 else ''}; Undo goes back).")
            return
        self._show(entry, keep_view=False)

    def _is_current(self, entry: ClipEntry) -> bool:
        if entry is self.origin or entry is self.entry:
            return True
        ids = {self.session.source.get("library_id"), self.session.source.get("saved_library_id")}
        return entry.library_id is not None and entry.library_id in ids

    def _earlier_session(self, entry: ClipEntry) -> Optional[EditSession]:
        if entry.library_id is None:
            return None
        for info in list_sessions():  # newest first
            if info.closed and info.position > 0 and info.source.get("library_id") == entry.library_id:
                try:
                    return EditSession.open(info.folder)
                except LoaError as exc:
                    log.warning("cannot reopen %s: %s", info.folder, exc)
        return None

    def adopt_session(self, session: EditSession, origin: ClipEntry) -> None:
        """Show a session restored after a crash (or reopened) as the clip being edited."""
        self.close_clip()
        self.origin = origin
        self._adopt(session)

    def _adopt(self, session: EditSession) -> None:
        self.session = session
        self.entry = self._edited_entry(session.clip)
        self._show(self.entry, keep_view=False)
        self._select(session.selection, session.clip)

    def _show(self, entry: Optional[ClipEntry], keep_view: bool) -> None:
        self.view.set_clip(entry.clip if entry is not None else None, keep_view=keep_view)
        self.clip_changed.emit(entry)
        self.state_changed.emit()

    def clip(self) -> Optional[Clip]:
        return self.entry.clip if self.entry is not None else None

    @property
    def can_undo(self) -> bool:
        return self.session is not None and self.session.can_undo and not self.busy

    @property
    def can_redo(self) -> bool:
        return self.session is not None and self.session.can_redo and not self.busy

    @property
    def has_unsaved_edits(self) -> bool:
        return self.session is not None and self.session.has_unsaved_edits

    # ---- selection -------------------------------------------------------------------------------------
    def selection(self) -> Selection:
        """The view's selection (or cursor) in frames, snapped to zero crossings when that is on."""
        clip = self.clip()
        if clip is None:
            return Selection()
        chosen = self.view.selection()
        sel = Selection.from_seconds(*chosen, clip.sample_rate) if chosen else \
            Selection.cursor(int(round(self.view.cursor() * clip.sample_rate)))
        sel = sel.clamped(clip.frames)
        return snap_to_zero_crossings(clip, sel) if self.snap_to_zero else sel

    def select_all(self) -> None:
        if self.clip() is not None:
            self.view.set_selection(0.0, self.view.duration)

    def _select(self, sel: Selection, clip: Clip) -> None:
        if sel.is_empty:
            self.view.clear_selection()
            self.view.set_cursor(sel.start / clip.sample_rate)
        else:
            self.view.set_selection(*sel.seconds(clip.sample_rate))

    # ---- editing ---------------------------------------------------------------------------------------
    def apply(self, op: str, params: Optional[dict] = None, needs_selection: bool = False,
              label: str = "") -> bool:
        """Run a core.editing operation on the selection; False (with a message) when it cannot start."""
        if not self._ready():
            return False
        sel = self.selection()
        if needs_selection and sel.is_empty:
            self.message.emit(f"{label or op.capitalize()}: select a range first (drag across the waveform).")
            return False
        params = dict(params or {})
        if op == "paste":
            if self.clipboard is None:
                self.message.emit("Paste: the clipboard is empty; cut or copy some audio first.")
                return False
            params["pasted"] = self.clipboard
        self._run(lambda: self._session().apply(op, sel, **params), working=label or op.capitalize())
        return True

    def commit(self, clip: Clip, selection: Selection, operation: dict, note: str = "") -> None:
        """A clip computed elsewhere (regenerate, transform) becomes the next undoable version."""
        self._run(lambda: self._session().commit(clip, selection, operation=operation, note=note))

    def undo(self) -> None:
        if self.can_undo:
            self._run(self.session.undo, working="Undo")

    def redo(self) -> None:
        if self.can_redo:
            self._run(self.session.redo, working="Redo")

    def _ready(self) -> bool:
        if self.entry is None:
            self.message.emit("Open a file, or select a take or a library item, to edit it.")
            return False
        if self.busy:
            self.message.emit("Still working on the last edit…")
            return False
        return True

    def _session(self) -> EditSession:
        """The session for the shown clip, created on the first edit (runs on the worker for long clips)."""
        if self.session is None:
            source = self._source_of(self.origin)
            self.session = EditSession.create(self.origin.clip, name=self.origin.prompt or "clip", source=source)
        return self.session

    def _source_of(self, entry: ClipEntry) -> dict:
        source = {"prompt": entry.prompt, "mode": entry.mode}
        for key in (FORMAT_KEY, SUBTYPE_KEY):  # a restored session still exports like its original file
            if entry.settings.get(key):
                source[key] = entry.settings[key]
        if entry.library_id is not None:
            source["library_id"] = entry.library_id
        return source

    def _run(self, work: Callable[[], EditResult], then: Optional[Callable[[EditResult], None]] = None,
             working: str = "") -> None:
        clip = self.clip()
        self.busy = True
        self.state_changed.emit()
        if clip is not None and clip.frames * clip.channels > THREAD_SAMPLES:
            # seconds of work on a long clip: say it has started (and, in _on_finished, that it is done)
            self._working = working
            if working:
                self.message.emit(f"{working}: working on {clip.frames / clip.sample_rate:.0f} s of audio…")
            threading.Thread(target=self._work, args=(work, then), daemon=True, name="loa-edit").start()
        else:
            self._work(work, then)

    def _work(self, work, then) -> None:
        try:
            self._finished.emit(work(), None, then)
        except LoaError as exc:
            self._finished.emit(None, str(exc), then)
        except OSError as exc:
            self._finished.emit(None, f"Could not write the edit to disk: {exc}", then)
        except Exception as exc:  # noqa: BLE001 - one line in the window, the traceback in the log
            log.exception("edit failed")
            self._finished.emit(None, f"The edit failed: {type(exc).__name__}: {exc}", then)

    def _on_finished(self, result: Optional[EditResult], error: Optional[str], then) -> None:
        self.busy = False
        working, self._working = self._working, ""
        if error is not None:
            self.error.emit(error)
            self.state_changed.emit()
            return
        if result.clipboard is not None:
            self.clipboard = result.clipboard
        if result.did_change and self.session is not None:
            self.entry = self._edited_entry(result.clip)
            self._show(self.entry, keep_view=True)
            self._select(result.selection, result.clip)
        else:
            self.state_changed.emit()
        if result.note:
            self.message.emit(result.note)
        elif result.clipboard is not None and not result.did_change:
            self.message.emit(f"Copied {result.clipboard.seconds:.3f} s.")
        elif working:
            self.message.emit(f"{working}: done.")  # replaces the "working…" line
        if then is not None:
            then(result)

    def _edited_entry(self, clip: Clip) -> ClipEntry:
        origin = self.origin
        settings = dict(origin.settings)
        if self.session is not None:
            settings["edits"] = self.session.operations()
        if origin.library_id is not None:
            settings["derived_from"] = origin.library_id
        return dataclasses.replace(origin, clip=clip, settings=settings, library_id=None, kept=False)

    # ---- versions and lifetime -------------------------------------------------------------------------
    def save_version(self) -> Optional[int]:
        """Store the edited clip in the library as a new version of the original; returns its library id."""
        if self.session is None or self.session.position == 0:
            self.message.emit("Nothing to save: the clip has no edits.")
            return None
        origin = self.origin
        try:
            if origin.library_id is None:  # a fresh take: stored first, so the version can point at it
                stored = self.library.add(origin.clip, prompt=origin.prompt, mode=origin.mode, model=origin.model,
                                          licence=origin.licence, seed=origin.seed, score=origin.score,
                                          settings=origin.settings)
                origin.library_id = stored.id
                self.session.set_source(self._source_of(origin))
            item = self._add_version(origin, self.session.clip, self.session.operations())
        except (OSError, LoaError) as exc:
            self.error.emit(f"Could not save the version: {exc}")
            return None
        self.session.mark_saved(item.id)
        self.session.set_source(self.session.source | {"saved_library_id": item.id})
        self.entry.library_id = item.id
        self.library_changed.emit()
        self.message.emit(f"Saved “{item.title}” as a new version in the library (the original is unchanged).")
        self.state_changed.emit()
        return item.id

    def _add_version(self, origin: ClipEntry, clip: Clip, operations: list[dict]):
        add_version = getattr(self.library, "add_version", None)
        if add_version is not None:
            return add_version(origin.library_id, clip, operations)
        settings = dict(origin.settings) | {"derived_from": origin.library_id, "edits": operations}
        return self.library.add(clip, prompt=origin.prompt, mode=origin.mode, model=origin.model,
                                licence=origin.licence, seed=origin.seed, settings=settings)

    def close_clip(self) -> None:
        """Close the clip being edited; its session and history stay on disk."""
        if self.session is not None:
            try:
                self.session.close()
            except Exception as exc:  # noqa: BLE001 - closing must never lose the window
                log.warning("closing the edit session failed: %s", exc)
            self.session = None

    def discard_edits(self) -> None:
        """Throw the unsaved edits and their history away; the original is shown again."""
        if self.session is not None:
            self.session.discard()
            self.session = None
        self.entry = self.origin
        self._show(self.entry, keep_view=True)

    def require(self, what: str) -> Optional[Clip]:
        clip = self.clip()
        if clip is None:
            self.message.emit(f"{what}: open a file, or select a take or a library item, first.")
        return clip

