"""Unsaved edits of every clip, not only the one on screen: switching clips closes a session with its history (the
edits come back when its row is clicked), so quitting names all of them, the library marks them and a start says
which clips have them.

    unsaved = UnsavedEdits(editor)
    unsaved.library_ids()        # library items with unsaved edits (the shown clip's included)
    unsaved.confirm_quit()       # one box listing them: save all as versions / discard all / cancel
    unsaved.start_note()         # the line a start shows, or ""
"""

from __future__ import annotations

import logging
from typing import Optional

from PySide6.QtWidgets import QMessageBox

from core.editing import EditSession, SessionInfo, unsaved_sessions
from core.errors import LoaError
from core.wording import counted

log = logging.getLogger(__name__)
LISTED = 8  # clips named in the quit box at most; the rest are counted


class UnsavedEdits:
    def __init__(self, editor) -> None:
        self.editor = editor
        self.controller = editor.controller
        self._marked: set[int] = set()

    def others(self) -> list[SessionInfo]:
        """Closed sessions with unsaved edits, the shown clip's excluded."""
        session = self.controller.session
        current = session.folder if session is not None else None
        shown = self.controller.origin.library_id if self.controller.origin is not None else None
        return [info for info in unsaved_sessions()
                if info.folder != current and info.source.get("library_id") != shown]

    def library_ids(self) -> set[int]:
        ids = {info.source["library_id"] for info in self.others()}
        origin = self.controller.origin
        if self.controller.has_unsaved_edits and origin is not None and origin.library_id is not None:
            ids.add(origin.library_id)
        return ids

    def refresh_marks(self) -> None:
        """Re-mark the library's rows when the set of clips with unsaved edits changed."""
        ids = self.library_ids()
        if ids != self._marked:
            self._marked = ids
            self.editor.window.library_panel.refresh()

    def start_note(self) -> str:
        others = self.others()
        if not others:
            return ""
        names = ", ".join(f"“{info.name or 'a clip'}”" for info in others[:3]) + (" …" if len(others) > 3 else "")
        return (f"{counted(len(others), 'clip')} {'has' if len(others) == 1 else 'have'} unsaved edits ({names}), "
                "marked ✎ in the library: select one to go on editing it.")

    # ---- quitting --------------------------------------------------------------------------------------
    def confirm_quit(self) -> bool:
        """Quitting: every clip with unsaved edits is named; save all as new versions / discard all / cancel.
        False: stay open."""
        ctl = self.controller
        names = [f"“{ctl.origin.prompt or 'The clip'}” (on screen)"] if ctl.has_unsaved_edits else []
        others = self.others()
        names += [f"“{info.name or 'a clip'}”" for info in others]
        if not names:
            return True
        listed = "\n".join(f"• {name}" for name in names[:LISTED])
        if len(names) > LISTED:
            listed += f"\n• and {len(names) - LISTED} more"
        single = len(names) == 1
        who = "This clip has" if single and ctl.has_unsaved_edits else \
            f"{counted(len(names), 'clip')} {'has' if single else 'have'}"
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved edits",
                          f"{who} edits that are not saved as a version:\n{listed}", parent=self.editor.window)
        box.setObjectName("unsavedEditsBox")
        save = box.addButton("Save as new version" if single else "Save all as new versions",
                             QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard" if single else "Discard all", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is save:
            if ctl.has_unsaved_edits and ctl.save_version() is None:
                return False
            return all(self._save(info) for info in others)
        if box.clickedButton() is discard:
            if ctl.has_unsaved_edits:
                ctl.discard_edits()
            for info in others:
                self._discard(info)
            return True
        return False

    def _open(self, info: SessionInfo) -> Optional[EditSession]:
        try:
            return EditSession.open(info.folder)
        except LoaError as exc:
            self.editor.window.show_error(f"Could not open the edits of “{info.name}”: {exc}")
            return None

    def _save(self, info: SessionInfo) -> bool:
        session = self._open(info)
        if session is None:
            return False
        library = self.editor.window.library
        try:
            item = library.add_version(info.source["library_id"], session.clip, session.operations())
            session.mark_saved(item.id)
            session.set_source(session.source | {"saved_library_id": item.id})
        except (OSError, LoaError) as exc:
            self.editor.window.show_error(f"Could not save the edits of “{info.name}” as a version: {exc}")
            return False
        finally:
            session.close()
        return True

    def _discard(self, info: SessionInfo) -> None:
        session = self._open(info)
        if session is not None:
            session.discard()
