"""The pad grid: 16 pads of the current bank (4 banks), played by MIDI notes, mouse and the computer keyboard.

Drop a candidate card or a library row on a pad (both drag a file, studio.export.dragout) or use the pad's menu
("Assign the selected take"). Keys: 1 2 3 4 / Q W E R / A S D F / Z X C V play pads 1-16 while the grid has
focus; a key held on a gate pad plays until released. Right-click a pad for gate / one-shot and clear.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QMenu,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core.audio.clip import load_clip
from core.devices.midi_messages import note_name as note_name_for
from core.devices.pads import BANKS, KEY_ROWS, PADS_PER_BANK
from core.errors import LoaError
from studio.midi.controller import MidiController
from studio.midi.pad_files import durable_pad_file, is_transient
from studio.shell.labels import ElidedLabel

FLASH_MS = 150


class PadButton(QPushButton):
    def __init__(self, grid: "PadGrid", pad: int) -> None:
        super().__init__()
        self.grid, self.pad = grid, pad
        self.setObjectName(f"pad{pad + 1}")
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the grid
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(52, 44)  # four columns fit a dock about 250 px wide
        self._lines: list[str] = []
        self.pressed.connect(lambda: grid.controller.trigger_pad(pad))
        self.released.connect(lambda: grid.controller.release_pad(pad))
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(lambda pos: grid.pad_menu(pad).exec(self.mapToGlobal(pos)))

    def sizeHint(self) -> QSize:
        return QSize(64, 56)  # not the words' width: the four columns stay even whatever a pad is called

    def set_lines(self, lines: list[str]) -> None:
        self._lines = lines
        self._elide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        """Each line as fits the pad's width (the whole name is in the tooltip)."""
        metrics, room = self.fontMetrics(), max(8, self.width() - 8)
        self.setText("\n".join(metrics.elidedText(line, Qt.TextElideMode.ElideRight, room) for line in self._lines))

    def dragEnterEvent(self, event) -> None:
        if _local_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = _local_files(event.mimeData())
        if files and self.grid.assign_file(self.pad, files[0]):
            event.acceptProposedAction()


def _local_files(mime) -> list[Path]:
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []


class PadGrid(QWidget):
    """Pads of `controller` (a MidiController); `selected` gives the window's selected take (or None)."""

    def __init__(self, controller: MidiController, selected: Optional[Callable[[], object]] = None,
                 on_error: Optional[Callable[[str], None]] = None, parent: Optional[QWidget] = None,
                 library=None) -> None:
        super().__init__(parent)
        self.setObjectName("padGrid")
        self.library = library  # core.library.store.Library, to remember library items by their file
        self.controller = controller
        self.selected = selected or (lambda: None)
        self.on_error = on_error or (lambda text: None)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.bank_combo = QComboBox()
        self.bank_combo.addItems([f"Bank {chr(ord('A') + b)}" for b in range(BANKS)])
        self.bank_combo.currentIndexChanged.connect(controller.set_bank)
        self.buttons = [PadButton(self, pad) for pad in range(PADS_PER_BANK)]
        grid = QGridLayout()
        grid.setSpacing(4)
        for pad, button in enumerate(self.buttons):
            grid.addWidget(button, pad // 4, pad % 4)
        top = QHBoxLayout()
        top.addWidget(self.bank_combo)
        hint = ElidedLabel("Keys: " + " · ".join(KEY_ROWS))  # gives way in a narrow dock
        hint.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(hint, 1)
        hint.setToolTip(f"{hint.text()}\nWith the pads focused (click them), these keys play pads 1-16, row by row.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(grid, 1)
        controller.pads_changed.connect(self.refresh)
        controller.bank_changed.connect(self._on_bank)
        controller.pad_started.connect(self.flash)
        self.refresh()

    # ---- state ----------------------------------------------------------------------------------------
    def refresh(self) -> None:
        bank = self.controller.pads
        for pad, button in enumerate(self.buttons):
            slot = bank.pad(pad)
            note = note_name_for(bank.note_for_pad(pad))
            mode = "gate" if slot.mode == "gate" else ""
            button.set_lines([f"{pad + 1}  {note}", slot.label if not slot.empty else "—"]
                             + ([f"[{mode}]"] if mode else []))
            button.setToolTip(f"Pad {pad + 1}: note {bank.note_for_pad(pad)} ({note}), key "
                              f"{''.join(KEY_ROWS)[pad]}\n{slot.label or 'Empty: drop a take or a library row here.'}")

    def _on_bank(self, bank: int) -> None:
        self.bank_combo.blockSignals(True)
        self.bank_combo.setCurrentIndex(bank)
        self.bank_combo.blockSignals(False)
        self.refresh()

    def flash(self, pad: int) -> None:
        button = self.buttons[pad]
        button.setStyleSheet("background: #5fb3f0; color: black;")
        QTimer.singleShot(FLASH_MS, button, lambda: button.setStyleSheet(""))

    # ---- assigning --------------------------------------------------------------------------------------
    def assign_file(self, pad: int, path: Path) -> bool:
        try:
            clip = load_clip(path)
        except LoaError as exc:
            self.on_error(f"Cannot put {path.name} on pad {pad + 1}: {exc}")
            return False
        source = {"file": str(path)}
        if is_transient(path):  # a drag-out render (a card or a library row dropped here): purged from the cache
            source = self._durable(clip, path.stem, pad) or source
        self.controller.assign_pad(pad, clip, path.stem, source)
        return True

    def _durable(self, clip, label: str, pad: int) -> dict:
        """A copy under <data>/pads that survives restarts and cache clean-ups ({} if it cannot be written)."""
        try:
            return {"file": str(durable_pad_file(clip, label))}
        except (OSError, LoaError) as exc:
            self.on_error(f"Pad {pad + 1} plays the take, but it will not be there after a restart: {exc}")
            return {}

    def assign_selected(self, pad: int) -> bool:
        entry = self.selected()
        if entry is None:
            self.on_error("Select a take or a library item first, then assign it to a pad.")
            return False
        source = {}
        label = getattr(entry, "prompt", "") or "take"
        if getattr(entry, "library_id", None) is not None and self.library is not None:
            try:  # a library item's own file: the pad kit remembers it across restarts
                source = {"library_id": entry.library_id, "file": str(self.library.get(entry.library_id).audio_path)}
            except (LoaError, KeyError, OSError):
                source = {"library_id": entry.library_id}
        if not source.get("file"):  # a take only in memory: a durable copy, so the pad still holds it after a restart
            source.update(self._durable(entry.clip, label, pad))
        self.controller.assign_pad(pad, entry.clip, label, source)
        return True

    def pad_menu(self, pad: int) -> QMenu:
        menu = QMenu(self)
        menu.addAction("Assign the selected take", lambda: self.assign_selected(pad))
        mode = self.controller.pads.pad(pad).mode
        gate = menu.addAction("Gate (plays while held)", lambda: self.controller.set_pad_mode(
            pad, "one-shot" if mode == "gate" else "gate"))
        gate.setCheckable(True)
        gate.setChecked(mode == "gate")
        menu.addAction("Clear", lambda: self.controller.clear_pad(pad))
        return menu

    # ---- computer keyboard --------------------------------------------------------------------------------
    def event(self, event) -> bool:
        # The window's one-key shortcuts (R records, K keeps) must not take the pad keys while the grid has focus.
        if event.type() == QEvent.Type.ShortcutOverride and self._pad_key(event) is not None:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        pad = self._pad_key(event)
        if pad is None:
            super().keyPressEvent(event)
        elif not event.isAutoRepeat():
            self.controller.trigger_pad(pad)

    def keyReleaseEvent(self, event) -> None:
        pad = self._pad_key(event)
        if pad is None:
            super().keyReleaseEvent(event)
        elif not event.isAutoRepeat():
            self.controller.release_pad(pad)

    @staticmethod
    def _pad_key(event) -> Optional[int]:
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier & ~Qt.KeyboardModifier.ShiftModifier:
            return None
        from core.devices.pads import pad_for_key

        text = event.text() or (chr(event.key()) if 0x20 < event.key() < 0x7F else "")
        return pad_for_key(text) if text else None
