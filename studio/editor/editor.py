"""Editor: the waveform editor in the main window (transport, edit toolbar and menus, import, versions, restore).

`install_editor(window)` puts it into a MainWindow that has a waveform view: the transport bar and the edit toolbar
go above the waveform, the editor's entries into the File and Edit menus plus a Transport menu, and files dropped
on the window open in the editor. The window keeps calling `editor.show_entry(entry)` for the clip to show,
`editor.playback.toggle()` for Space and `editor.confirm_quit()` from closeEvent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox

from core.audio.formats.source import FORMAT_KEY, SUBTYPE_KEY
from core.editing import EditSession, prune_in_background, recoverable_sessions
from core.errors import LoaError
from core.tempo.bars import MAX_BPM
from core.wording import counted
from studio.editor.actions import EditorActions, shortcuts_text
from studio.editor.controller import EditorController
from studio.editor.generative import GenerativeEdits
from studio.editor.importer import FILE_FILTER, DropImporter, import_files
from studio.editor.operation_table import EditOperation
from studio.editor.playback import EditorPlayback
from studio.editor.transport import TransportBar
from studio.editor.unsaved import UnsavedEdits
from studio.shell.clip_entry import ClipEntry
from studio.shell.file_dialogs import open_files


class Editor(QObject):
    entry_shown = Signal(object)  # the ClipEntry the editor shows now (Export, drag-out and Space act on it)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.view = window.waveform
        self.controller = EditorController(self.view, window.library, self)
        self.transport = TransportBar()
        window.transport = self.transport  # the recorder connects its Record button (studio.recording)
        self.playback = EditorPlayback(self.transport, self.view, window.auditioner, lambda: self.controller.entry,
                                       self)
        self.generative = GenerativeEdits(self, window.jobs, window.settings)
        self.actions = EditorActions(window, self, window.waveform_box)
        self.actions.build_file_menu(_menu(window, "&File"))
        self.actions.build_edit_menu(_menu(window, "&Edit"))
        self.actions.build_transport_menu(_menu_after(window, "&Transport", "&Edit"))
        self.toolbar = self.actions.build_toolbar()
        self.dropper = DropImporter(window, self.import_paths)
        self.last_folder: Optional[str] = None

        window.waveform_box.layout().insertWidget(0, self.toolbar)
        bar = getattr(window, "waveform_bar", None)  # the row that holds the selection's drag handle
        if bar is not None:
            spacers = [bar.itemAt(i) for i in range(bar.count()) if bar.itemAt(i).spacerItem() is not None]
            for spacer in spacers:  # it kept the handle right; the transport takes all the room now
                bar.removeItem(spacer)
            bar.insertWidget(0, self.transport, 1)
        else:
            window.waveform_box.layout().insertWidget(1, self.transport)
        # Ctrl+Z is the editor's Undo now; it still undoes a library delete when the library has the focus.
        window.undo_action.setShortcut(QKeySequence())
        window.undo_action.setText("Undo library &delete")
        window.editor_shortcuts = "\n\n" + shortcuts_text()
        self.controller.state_changed.connect(self.actions.refresh)
        self.controller.clip_changed.connect(self.entry_shown)
        self.controller.message.connect(window.show_message)
        self.controller.error.connect(window.show_error)
        self.controller.library_changed.connect(window.library_panel.library_changed)
        window.library_panel.changed.connect(self.actions.refresh)  # Undo also undoes a library delete
        self.unsaved = UnsavedEdits(self)
        window.library_panel.unsaved_ids = self.unsaved.library_ids
        self.controller.clip_changed.connect(lambda _entry: self.unsaved.refresh_marks())
        self.actions.refresh()

    # ---- what the window calls -------------------------------------------------------------------------
    def show_entry(self, entry: Optional[ClipEntry]) -> None:
        self.controller.show_entry(entry)

    def run_operation(self, op: EditOperation, params: Optional[dict] = None) -> bool:
        """Menu, toolbar and shortcuts land here: ask for parameters if the operation has some, then edit."""
        clip = self.controller.require(op.label.replace("&", "").rstrip("…"))
        if clip is None:
            return False
        values = dict(op.params or {})
        if params is None and op.dialog is not None:
            asked = op.dialog(self.window, clip).ask()
            if asked is None:
                return False
            values |= asked
        values |= params or {}
        return self.controller.apply(op.op, values, op.needs_selection, op.label.replace("&", "").rstrip("…"))

    def undo(self) -> None:
        """Ctrl+Z: the library's delete when the library has the focus or the editor has nothing to undo."""
        library_focused = self.window.library_dock.isAncestorOf(self.window.focusWidget()) \
            if self.window.focusWidget() is not None else False
        if (library_focused or not self.controller.can_undo) and self.library_can_undo():
            self.window.library_panel.undo_delete()
        elif self.controller.can_undo:
            self.controller.undo()
        else:
            self.window.show_message("Nothing to undo.")

    def library_can_undo(self) -> bool:
        button = getattr(self.window.library_panel, "undo_button", None)
        return button is not None and button.isEnabled()

    def ask_tempo(self) -> None:
        """Transport > Tempo…: the readouts add bars.beats at this tempo (0 turns them off)."""
        bpm, ok = QInputDialog.getDouble(self.window, "Tempo", "Beats per minute (0: none):",
                                         self.transport.tempo or 120.0, 0.0, MAX_BPM, 1)
        if ok:
            self.transport.set_tempo(bpm or None, self.transport.beats_per_bar)

    def cursor_to(self, seconds: float) -> None:
        self.view.clear_selection()
        self.view.set_cursor(seconds)
        self.view.ensure_visible(seconds)

    # ---- opening files ---------------------------------------------------------------------------------
    def open_files_dialog(self) -> None:
        paths = open_files(self.window, "audio", "Open audio", FILE_FILTER)  # where audio was opened last
        if paths:
            self.import_paths(paths)

    def import_paths(self, paths) -> list[ClipEntry]:
        """Import files into the library and show the last one that opened; unreadable ones are named once."""
        report = import_files(paths, self.window.library)
        if report.entries:
            self.last_folder = str(Path(paths[0]).parent)
            self.window.library_panel.library_changed()
            self.window.show_entry(report.entries[-1])
            self.window.library_panel.mark_shown(report.entries[-1].library_id)
        if report.errors:
            self.window.show_error(report.message())
        else:
            self.window.show_message(report.message())
        return report.entries

    # ---- nothing lost ----------------------------------------------------------------------------------
    def offer_restore(self, ask: bool = True) -> Optional[EditSession]:
        """After a crash: offer the newest session that was not closed; True restores it without asking."""
        current = self.controller.session.folder if self.controller.session is not None else None
        sessions = [s for s in recoverable_sessions() if s.folder != current]
        if not sessions:
            note = self.unsaved.start_note() if ask else ""
            if note:
                self.window.show_message(note)
            return None
        info = sessions[0]
        if ask:
            box = QMessageBox(QMessageBox.Icon.Question, "Restore edits",
                              f"LOA Studio stopped while “{info.name or 'a clip'}” was being edited "
                              f"({info.position} edit{'s' if info.position != 1 else ''}). Restore it with its "
                              "undo history?", parent=self.window)
            box.setObjectName("restoreEditsBox")
            restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
            box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
            box.exec()
            if box.clickedButton() is not restore:
                return None
        try:
            session = EditSession.open(info.folder)
        except LoaError as exc:
            self.window.show_error(f"Could not restore the edits: {exc}")
            return None
        self.controller.adopt_session(session, self._origin_for(session))
        edits = counted(session.position, "edit")
        self.window.show_message(f"Restored “{session.name}” with {edits}; Undo goes back."
                                 + (f" {session.repair_note}" if session.repair_note else ""))
        return session

    def _origin_for(self, session: EditSession) -> ClipEntry:
        library_id = session.source.get("library_id")
        if library_id is not None:
            try:
                return ClipEntry.from_library(self.window.library.get(library_id))
            except LoaError:
                pass
        kept = {k: v for k, v in session.source.items() if k in (FORMAT_KEY, SUBTYPE_KEY)}  # export format
        return ClipEntry(clip=session.clip, prompt=session.name, mode=session.source.get("mode", "edit"), model="",
                         licence="", settings=kept)

    def confirm_quit(self) -> bool:
        """Quitting: every clip with unsaved edits is named (save all as versions / discard all / cancel).
        False: stay open."""
        if not self.unsaved.confirm_quit():
            return False
        self.playback.stop()
        self.controller.close_clip()
        return True

    def confirm_discard(self) -> None:
        if self.controller.session is None:
            return
        answer = QMessageBox.question(self.window, "Discard edits",
                                      "Throw away every edit of this clip, with its undo history?")
        if answer == QMessageBox.StandardButton.Yes:
            self.controller.discard_edits()


def _menu(window, title: str):
    for action in window.menuBar().actions():
        if action.text() == title and action.menu() is not None:
            return action.menu()
    return window.menuBar().addMenu(title)


def _menu_after(window, title: str, after: str) -> QMenu:
    bar = window.menuBar()
    actions = bar.actions()
    titles = [a.text() for a in actions]
    menu = QMenu(title, window)
    if after in titles and titles.index(after) + 1 < len(actions):
        bar.insertMenu(actions[titles.index(after) + 1], menu)
    else:
        bar.addMenu(menu)
    return menu


def install_editor(window) -> Optional[Editor]:
    """The editor for `window` (None when the window has no waveform view); restore is offered once shown."""
    if getattr(window, "waveform", None) is None:
        return None
    editor = Editor(window)
    QTimer.singleShot(0, editor, lambda: editor.offer_restore(ask=True))
    prune_in_background()  # closed, saved edit histories: older than 30 days, or beyond 4 GB in all
    return editor


