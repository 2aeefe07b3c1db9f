"""The main window's library actions: showing and playing items, re-opening settings, the trash, search focus,
and drag-out of library rows. A mixin of MainWindow (it uses the window's panels, library and messages)."""

from __future__ import annotations

from typing import Optional

from core.errors import LoaError
from core.library.store import LibraryItem
from studio.shell.clip_entry import ClipEntry
from studio.shell.confirm import confirm


class LibraryActions:
    def _entry_for_item(self, item: LibraryItem) -> Optional[ClipEntry]:
        try:
            return ClipEntry.from_library(item)
        except LoaError as exc:
            self.show_error(f"Cannot open “{item.title}”: {exc}")
            return None

    def _on_library_item_selected(self, item: LibraryItem) -> None:
        entry = self._entry_for_item(item)
        if entry is not None:
            self.show_entry(entry)

    def _on_library_play(self, item: LibraryItem) -> None:
        entry = self._entry_for_item(item)
        if entry is not None:
            self.show_entry(entry)
            self.auditioner.play(entry)

    def reopen_settings(self, item: LibraryItem) -> None:
        self.generation_panel.apply_settings(item.mode, item.model, item.settings)
        self.show_message(f"Loaded the settings of “{item.title}” (seed {item.seed} locked). Press Generate.")

    def empty_trash(self) -> None:
        waiting = self.library.count(trashed=True)
        if not waiting:
            self.show_message("The trash is empty.")
            return
        if not confirm(self, "Empty trash", f"Delete the {waiting} item{'s' if waiting != 1 else ''} in the trash "
                       "for good? Their audio files are removed from disk; this cannot be undone.", "Empty trash"):
            return
        count = self.library.purge()
        self.library_panel.forget_undo()  # the purged ids are gone; Undo must not claim to restore them
        self.library_panel.library_changed()
        self.show_message(f"Deleted {count} item{'s' if count != 1 else ''} from the trash for good.")

    def focus_library_search(self) -> None:
        self.library_dock.show()
        self.library_panel.search_edit.setFocus()
        self.library_panel.search_edit.selectAll()

    def _library_payload_at(self, pos):
        item = self.library_panel.list.item_at(pos)
        entry = self._entry_for_item(item) if item is not None else None
        if entry is None:
            return None
        return self.dragout.DragPayload(entry.clip, entry.provenance())
