"""The library panel: search, filter by mode and model, favourite, delete to trash (undoable),
re-open a generation's settings, audition, and drag items out (through a hook the window sets)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.library.store import Library, LibraryItem
from studio.editor.provenance_view import chain_text, version_line
from studio.shell.confirm import confirm

ITEM_ROLE = Qt.ItemDataRole.UserRole
SEARCH_DELAY_MS = 200  # search as you type, without a query per keystroke
LAYOUT_BATCH = 200  # list rows laid out per event-loop pass (~3 ms at 4000 rows)
_JUMP_KEYS = (Qt.Key.Key_End, Qt.Key.Key_PageDown)
# Selecting from code replaces the selection; the list's extended mode would otherwise add to it.
_SELECT_ONLY = QItemSelectionModel.SelectionFlag.ClearAndSelect


def describe(item: LibraryItem) -> str:
    star = "★ " if item.favourite else ""
    kept = " · in the trash" if item.trashed else " · kept" if item.kept else " · not kept"
    seed = f"seed {item.seed}" if item.seed is not None else ""
    # an imported file has no model: its row reads "import · <date>", not "import ·  · <date>"
    details = (item.mode, _short_model(item.model) if item.model else "", seed, item.created[:16].replace("T", " "))
    return f"{star}{item.title}\n{' · '.join(d for d in details if d)}{kept}"


class LibraryList(QListWidget):
    """The list of items. Drag-out is installed on its viewport by the window (studio.export.dragout.DragSource)."""

    delete_pressed = Signal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("libraryList")
        self.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.setWordWrap(True)
        self.setSpacing(3)
        # Laid out a batch of rows per event-loop pass: a whole pass over 4000 word-wrapped rows after each new take
        # held the GUI thread 0.05 s on a quiet machine and 0.2-0.25 s beside a generation (bench_gui_pause).
        self.setLayoutMode(QListWidget.LayoutMode.Batched)
        self.setBatchSize(LAYOUT_BATCH)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_pressed.emit()
            return
        if event.key() in _JUMP_KEYS:  # a jump into rows not laid out yet: lay them all out first (once)
            self.setLayoutMode(QListWidget.LayoutMode.SinglePass)
            self.doItemsLayout()
            self.setLayoutMode(QListWidget.LayoutMode.Batched)
        super().keyPressEvent(event)

    def item_at(self, pos) -> Optional[LibraryItem]:
        """The library item under a viewport position (None over empty space)."""
        row = self.itemAt(pos)
        return row.data(ITEM_ROLE) if row is not None else None


class LibraryPanel(QWidget):
    item_selected = Signal(object)  # LibraryItem
    play_requested = Signal(object)  # LibraryItem
    reopen_requested = Signal(object)  # LibraryItem
    message = Signal(str)
    changed = Signal()  # items were added, kept, trashed, restored or deleted for good

    def __init__(self, library: Library, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("libraryPanel")
        self.library = library
        self._undo: list[list[int]] = []  # trashed id groups, newest last
        self.unsaved_ids = lambda: set()  # library ids with unsaved edits (the editor sets this)

        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("librarySearch")
        self.search_edit.setPlaceholderText("Search prompts, spoken words, source files, models")
        self.search_edit.setClearButtonEnabled(True)
        self.mode_filter = QComboBox()
        self.mode_filter.setObjectName("libraryModeFilter")
        self.model_filter = QComboBox()
        self.model_filter.setObjectName("libraryModelFilter")
        for combo in (self.mode_filter, self.model_filter):  # a long model folder path must not widen the dock
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        self.favourites_only = QCheckBox("★ only")
        self.kept_only = QCheckBox("Kept only")
        self.trash_toggle = QCheckBox("Trash")
        self.trash_toggle.setObjectName("libraryTrashToggle")
        self.trash_toggle.setToolTip("Show the trash: restore items or delete them for good")
        self.list = LibraryList()
        self.empty_label = QLabel()
        self.empty_label.setObjectName("libraryEmpty")
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: #888;")
        self.empty_label.setVisible(False)
        self.play_button = QPushButton("Play")
        self.favourite_button = QPushButton("★ Favourite")
        self.favourite_button.setObjectName("favouriteButton")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("deleteButton")
        self.delete_button.setToolTip("Move to the trash (Undo brings it back)")
        self.undo_button = QPushButton("Undo delete")
        self.undo_button.setObjectName("undoDeleteButton")
        self.undo_button.setEnabled(False)
        self.reopen_button = QPushButton("Re-open")
        self.reopen_button.setToolTip("Load this take's settings into the panel (seed locked) to make it again")
        self.reopen_button.setObjectName("reopenButton")
        self.restore_button = QPushButton("Restore")
        self.restore_button.setObjectName("restoreButton")
        self.purge_button = QPushButton("Delete for good…")
        self.purge_button.setObjectName("purgeButton")

        filters = QHBoxLayout()
        filters.addWidget(self.mode_filter)
        filters.addWidget(self.model_filter, 1)
        toggles = QHBoxLayout()
        toggles.addWidget(self.favourites_only)
        toggles.addWidget(self.kept_only)
        toggles.addStretch(1)
        toggles.addWidget(self.trash_toggle)
        actions = QHBoxLayout()  # two short rows keep the dock slim
        for b in (self.play_button, self.favourite_button, self.reopen_button):
            actions.addWidget(b)
        trash_actions = QHBoxLayout()
        for b in (self.delete_button, self.undo_button, self.restore_button, self.purge_button):
            trash_actions.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search_edit)
        layout.addLayout(filters)
        layout.addLayout(toggles)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.list, 1)
        layout.addLayout(actions)
        layout.addLayout(trash_actions)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh)
        self.search_edit.textChanged.connect(self._search_timer.start)
        for combo in (self.mode_filter, self.model_filter):
            combo.currentIndexChanged.connect(self.refresh)
        self.favourites_only.toggled.connect(self.refresh)
        self.kept_only.toggled.connect(self.refresh)
        self.trash_toggle.toggled.connect(self._show_trash)
        self.restore_button.clicked.connect(self.restore_selected)
        self.purge_button.clicked.connect(self.purge_selected)
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.list.itemDoubleClicked.connect(lambda row: self.play_requested.emit(row.data(ITEM_ROLE)))
        self.list.delete_pressed.connect(self.delete_selected)
        self.play_button.clicked.connect(self._play_current)
        self.favourite_button.clicked.connect(self.toggle_favourite)
        self.delete_button.clicked.connect(self.delete_selected)
        self.undo_button.clicked.connect(self.undo_delete)
        self.reopen_button.clicked.connect(self._reopen_current)
        self.refresh_filters()
        self._show_trash(False)

    # ---- listing ---------------------------------------------------------------------------------------
    def refresh_filters(self) -> None:
        """Offer the modes and models that are in the library, keeping the current choice."""
        for combo, values, everything in ((self.mode_filter, self.library.modes(), "All modes"),
                                          (self.model_filter, self.library.models(), "All models")):
            keep = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everything, None)
            for value in values:
                combo.addItem(_short_model(value), value)
                combo.setItemData(combo.count() - 1, value, Qt.ItemDataRole.ToolTipRole)
            index = combo.findData(keep) if keep else 0
            combo.setCurrentIndex(max(0, index))
            combo.blockSignals(False)

    def refresh(self) -> None:
        selected = self.current_item()
        items = self.library.search(self.search_edit.text(), mode=self.mode_filter.currentData(),
                                    model=self.model_filter.currentData(),
                                    favourites_only=self.favourites_only.isChecked(),
                                    kept_only=self.kept_only.isChecked(), trashed=self.in_trash)
        self.list.blockSignals(True)
        self.list.clear()
        unsaved = self.unsaved_ids()
        for item in items:
            row = self._row(item, unsaved)
            self.list.addItem(row)
            if selected is not None and item.id == selected.id:
                self.list.setCurrentItem(row, _SELECT_ONLY)
        searching = bool(self.search_edit.text().strip()) or self.mode_filter.currentIndex() > 0 or \
            self.model_filter.currentIndex() > 0 or self.favourites_only.isChecked() or self.kept_only.isChecked()
        self.empty_label.setText("No matches: try other words, or clear the search and filters." if searching else
                                 "The trash is empty." if self.in_trash else
                                 "No takes yet: generate, record or open a file.")
        self.empty_label.setVisible(not items)  # said, rather than a blank list
        self.list.blockSignals(False)

    def _row(self, item: LibraryItem, unsaved: set) -> QListWidgetItem:
        version = version_line(item)  # edited versions: made from which item, by which edits
        row = QListWidgetItem(describe(item) + (f"\n{version}" if version else "")
                              + ("\n✎ unsaved edits (select it to go on)" if item.id in unsaved else ""))
        row.setData(ITEM_ROLE, item)
        row.setToolTip(f"{item.prompt}\nlicence: {item.licence}\n{item.audio_path}"
                       + (f"\n{chain_text(self.library, item)}" if version else ""))
        return row

    def items_added(self, ids: list[int]) -> None:
        """New takes (a finished job): the ones the current view shows go on top and the rest of the list stays.
        A whole refresh reads and lays out every item: 0.2 s of the GUI thread at 4000 items, every job."""
        if self.in_trash or not ids:  # new takes are never in the trash
            self.changed.emit()
            return
        if set(self.library.modes()) != set(self._combo_values(self.mode_filter)) or \
                set(self.library.models()) != set(self._combo_values(self.model_filter)):
            self.refresh_filters()  # a first take of a mode or model: offer it in the filters
        items = self.library.search(self.search_edit.text(), mode=self.mode_filter.currentData(),
                                    model=self.model_filter.currentData(),
                                    favourites_only=self.favourites_only.isChecked(),
                                    kept_only=self.kept_only.isChecked(), ids=ids)
        self.list.blockSignals(True)
        unsaved = self.unsaved_ids()
        for index, item in enumerate(items):
            self.list.insertItem(index, self._row(item, unsaved))
        self.empty_label.setVisible(self.list.count() == 0)
        self.list.blockSignals(False)
        self.changed.emit()

    @staticmethod
    def _combo_values(combo) -> list:
        return [combo.itemData(i) for i in range(1, combo.count())]  # after "All modes" / "All models"

    def items(self) -> list[LibraryItem]:
        return [self.list.item(i).data(ITEM_ROLE) for i in range(self.list.count())]

    def current_item(self) -> Optional[LibraryItem]:
        row = self.list.currentItem()
        return row.data(ITEM_ROLE) if row is not None else None

    def selected_items(self) -> list[LibraryItem]:
        rows = self.list.selectedItems() or ([self.list.currentItem()] if self.list.currentItem() else [])
        return [r.data(ITEM_ROLE) for r in rows]

    def select_id(self, item_id: int) -> bool:
        for i in range(self.list.count()):
            if self.list.item(i).data(ITEM_ROLE).id == item_id:
                self.list.setCurrentRow(i, _SELECT_ONLY)
                return True
        return False

    def mark_shown(self, item_id: Optional[int]) -> None:
        """Highlight the item the window now shows (a file just opened) without opening it again, so the list
        never points at another item than the one Export… and the editor act on."""
        self.list.blockSignals(True)
        if item_id is None or not self.select_id(item_id):
            self.list.setCurrentItem(None)
        self.list.blockSignals(False)

    def library_changed(self) -> None:
        """Call after the window adds or changes items (a job finished, a take was kept)."""
        self.refresh_filters()
        self.refresh()
        self.trash_toggle.setText(f"Trash ({self.library.count(trashed=True)})")
        self.changed.emit()

    # ---- trash view ------------------------------------------------------------------------------------
    @property
    def in_trash(self) -> bool:
        return self.trash_toggle.isChecked()

    def _show_trash(self, on: bool) -> None:
        library = (self.delete_button, self.undo_button, self.play_button, self.favourite_button, self.reopen_button)
        trash = (self.restore_button, self.purge_button)
        # Hide before showing: both sets at once, even for a moment, would widen the dock and the window.
        for button in trash if not on else library:
            button.setVisible(False)
        for button in library if not on else trash:
            button.setVisible(True)
        self.library_changed()

    def restore_selected(self) -> None:
        items = self.selected_items()
        if items:
            self.library.restore([i.id for i in items])
            self._forget_restored({i.id for i in items})
            self.message.emit(f"Restored {_count(items)} from the trash.")
            self.library_changed()

    def purge_selected(self) -> None:
        items = self.selected_items()
        if not items or not confirm(self, "Delete for good", f"Delete {_count(items)} for good? The audio files "
                                    "are removed from disk; this cannot be undone.", "Delete for good"):
            return
        removed = self.library.purge([i.id for i in items])
        self.forget_undo()
        self.message.emit(f"Deleted {removed} item{'s' if removed != 1 else ''} for good.")
        self.library_changed()

    # ---- actions ---------------------------------------------------------------------------------------
    def toggle_favourite(self) -> None:
        item = self.current_item()
        if item is not None:
            self.library.set_favourite(item.id, not item.favourite)
            self.refresh()

    def delete_selected(self) -> None:
        items = self.selected_items()
        if self.in_trash:  # Delete in the trash view means for good (asked first)
            self.purge_selected()
            return
        if not items:
            return
        precious = [i for i in items if i.kept or i.favourite]
        if precious and not confirm(self, "Delete kept takes", f"{_count(precious)} of the selection "
                                    f"{'is' if len(precious) == 1 else 'are'} kept or a favourite. Move "
                                    f"{_count(items)} to the trash?", "Move to trash"):
            return
        self._undo.append(self.library.trash([i.id for i in items]))
        self.undo_button.setEnabled(True)
        what = f"“{items[0].title}”" if len(items) == 1 else f"{len(items)} items"
        self.message.emit(f"Moved {what} to the trash. Undo (Ctrl+Z) brings it back.")
        self.library_changed()

    def undo_delete(self) -> bool:
        if not self._undo:
            return False
        ids = self._undo.pop()
        self.library.restore(ids)
        self.undo_button.setEnabled(bool(self._undo))
        self.message.emit(f"Restored {len(ids)} item{'s' if len(ids) > 1 else ''} from the trash.")
        self.library_changed()
        self.select_id(ids[0])
        return True

    def _forget_restored(self, ids: set[int]) -> None:
        """Items restored from the trash view are no longer for Undo delete to bring back."""
        self._undo = [kept for kept in ([i for i in group if i not in ids] for group in self._undo) if kept]
        self.undo_button.setEnabled(bool(self._undo))

    def forget_undo(self) -> None:
        """The trash was emptied: nothing is left to bring back."""
        self._undo.clear()
        self.undo_button.setEnabled(False)

    def _on_current_changed(self, current, _previous) -> None:
        if current is not None:
            self.item_selected.emit(current.data(ITEM_ROLE))

    def _play_current(self) -> None:
        item = self.current_item()
        if item is not None:
            self.play_requested.emit(item)

    def _reopen_current(self) -> None:
        item = self.current_item()
        if item is not None:
            self.reopen_requested.emit(item)


def _count(items: list[LibraryItem]) -> str:
    return f"“{items[0].title}”" if len(items) == 1 else f"{len(items)} items"


def _short_model(model: str) -> str:
    """A model folder by its name (the full path is in the tooltip); hub ids as they are."""
    return Path(model).name if model.startswith(("/", "~", ".")) else model
