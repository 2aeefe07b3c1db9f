"""Candidate cards: the takes of a generation, with thumbnail, CLAP score and seed.

Click a card to select and audition it (play from the start), Space plays/stops the selected take, arrow keys move
between cards, "More like this" re-rolls with new seeds, "Keep" saves it to the library. Playback
and drag-out are not done here: the view emits signals and calls a `drag_handler` hook that the
main window sets (studio.export.dragout when present).
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core.audio.clip import Clip
from core.audio.silence import is_near_silent, peak_db
from core.errors import LoaError
from studio.shell.clip_entry import ClipEntry

THUMB_SIZE = (220, 52)
CARD_ROW_MIN_HEIGHT = 132  # one whole card (about 125 px) and its frame

DragHandler = Callable[[ClipEntry, QWidget], None]


def peak_envelope(clip: Clip, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-column min and max of the mono signal: what a waveform thumbnail draws."""
    mono = clip.mono
    columns = max(1, min(columns, len(mono)))
    usable = len(mono) - len(mono) % columns
    blocks = mono[:usable].reshape(columns, -1) if usable else np.zeros((columns, 1), np.float32)
    return blocks.min(axis=1), blocks.max(axis=1)


def waveform_pixmap(clip: Clip, width: int = THUMB_SIZE[0], height: int = THUMB_SIZE[1], fit: bool = False) -> QPixmap:
    """The take's waveform at its true level (full scale fills the height), as the editor shows it; `fit` scales
    the peak to the height instead (the card then says so)."""
    pixmap = QPixmap(width, height)
    pixmap.fill(QColor("#1e2228"))
    low, high = peak_envelope(clip, width)
    scale = max(float(np.abs(np.concatenate([low, high])).max()), 1e-6) if fit else 1.0
    middle = height / 2
    painter = QPainter(pixmap)
    painter.setPen(QPen(QColor("#3a4048"), 1))
    painter.drawLine(QPointF(0, middle), QPointF(width, middle))  # a silent stretch still shows a line
    painter.setPen(QPen(QColor("#5fb3f0"), 1))
    for x, (lo, hi) in enumerate(zip(low, high)):
        top = middle - min(hi / scale, 1.0) * (middle - 2)
        bottom = middle - max(lo / scale, -1.0) * (middle - 2)
        painter.drawLine(QPointF(x, top), QPointF(x, max(bottom, top + 1)))
    painter.end()
    return pixmap


class CandidateCard(QFrame):
    clicked = Signal(object)  # the card
    play_clicked = Signal(object)
    more_clicked = Signal(object)
    keep_clicked = Signal(object)

    def __init__(self, entry: ClipEntry, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("candidateCard")
        self.entry = entry
        self.drag_handler: Optional[DragHandler] = None
        self._press: Optional[QPoint] = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setToolTip(f"{entry.title}\nDrag onto your DAW or desktop to export.")

        self.thumbnail = QLabel()
        self.info = QLabel()
        self.info.setObjectName("candidateInfo")
        self.info.setWordWrap(True)  # as wide as the thumbnail: a card fits the centre column at 1024 px
        self.info.setFixedWidth(THUMB_SIZE[0])
        self.set_fit_level(False)
        # A near-silent take looks like any other in a normalised thumbnail: say so plainly.
        self.silent = is_near_silent(entry.clip)
        self.silent_mark = QLabel(f"Silent take (peak {peak_db(entry.clip):.0f} dBFS)" if self.silent else "")
        self.silent_mark.setObjectName("silentTakeMark")
        self.silent_mark.setStyleSheet("color: #e67e22; font-weight: bold;")
        self.silent_mark.setVisible(self.silent)
        self.play_button = QPushButton("Play")
        self.more_button = QPushButton("More like this")
        self.keep_button = QPushButton("Keep")
        for button in (self.play_button, self.more_button, self.keep_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the card list
        self.play_button.clicked.connect(lambda: self.play_clicked.emit(self))
        self.more_button.clicked.connect(lambda: self.more_clicked.emit(self))
        self.keep_button.clicked.connect(lambda: self.keep_clicked.emit(self))

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for button in (self.play_button, self.more_button, self.keep_button):
            button.setStyleSheet("padding: 2px 8px;")
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.thumbnail)
        layout.addWidget(self.info)
        layout.addWidget(self.silent_mark)
        layout.addLayout(buttons)
        self.set_selected(False)
        self.set_kept(entry.kept)

    def set_fit_level(self, fit: bool) -> None:
        """True level (as in the editor), or the peak scaled to the thumbnail's height, which the card says."""
        self.fit_level = fit
        self.thumbnail.setPixmap(waveform_pixmap(self.entry.clip, fit=fit))
        peak = peak_db(self.entry.clip)
        level = f"fit to peak {peak:.0f} dBFS" if fit else f"peak {peak:.0f} dBFS"
        self.info.setText(f"{self.entry.label} · {level}")
        self.thumbnail.setToolTip("Waveform scaled so its peak fills the height" if fit else
                                  "Waveform at its true level: full scale fills the height, as in the editor")

    def set_selected(self, selected: bool) -> None:
        self.selected = selected
        self.setStyleSheet("#candidateCard { border: 2px solid %s; border-radius: 4px; }"
                           % ("#5fb3f0" if selected else "transparent"))

    def set_kept(self, kept: bool) -> None:
        self.entry.kept = kept
        self.keep_button.setText("Kept" if kept else "Keep")
        self.keep_button.setEnabled(not kept)

    def set_playing(self, playing: bool) -> None:
        self.play_button.setText("Stop" if playing else "Play")

    # Drag-out: a press then a move past the platform's drag distance hands over to the hook; only a press
    # released without dragging is a click (select and play), so dragging a take out does not also play it.
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if (self._press is not None and self.drag_handler is not None
                and event.buttons() & Qt.MouseButton.LeftButton
                and (event.position().toPoint() - self._press).manhattanLength() >= QApplication.startDragDistance()):
            self._press = None
            self.drag_handler(self.entry, self)
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        clicked = self._press is not None and event.button() == Qt.MouseButton.LeftButton
        self._press = None
        super().mouseReleaseEvent(event)
        if clicked:
            self.clicked.emit(self)


class CandidatesView(QScrollArea):
    """A grid of CandidateCards with one selected card and keyboard navigation."""

    current_changed = Signal(object)  # ClipEntry
    play_toggled = Signal(object)  # ClipEntry: start it, or stop it if it is playing
    audition_requested = Signal(object)  # ClipEntry: a click on the card plays it from the start
    more_like_this = Signal(object)  # ClipEntry
    keep_requested = Signal(object)  # ClipEntry
    cards_changed = Signal()  # other takes shown, or one was kept (studio.library.session saves them)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("candidatesView")
        self.setMinimumHeight(CARD_ROW_MIN_HEIGHT)  # one whole card row, whatever the splitters do
        self.setWidgetResizable(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.cards: list[CandidateCard] = []
        self.current_index = -1
        self.columns = 2  # reflowed to the width on resize
        self.fit_levels = False
        self._drag_handler: Optional[DragHandler] = None
        self._inner = QWidget()
        self._grid = QGridLayout(self._inner)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._placeholder = QLabel("Candidates appear here. Type a prompt and press Generate (Ctrl+Enter).")
        self._placeholder.setWordWrap(True)
        self._grid.addWidget(self._placeholder, 0, 0)
        self.setWidget(self._inner)

    def set_fit_levels(self, fit: bool) -> None:
        """Thumbnails at true level (False, as the editor shows them) or fit to each take's peak (True)."""
        self.fit_levels = fit
        for card in self.cards:
            card.set_fit_level(fit)

    def set_drag_handler(self, handler: Optional[DragHandler]) -> None:
        self._drag_handler = handler
        for card in self.cards:
            card.drag_handler = handler

    def show_entries(self, entries: list[ClipEntry], select_first: bool = True) -> None:
        """Replace the cards with these takes (best first) and select the first (or none: what is shown stays)."""
        self.clear()
        for entry in entries:
            self._add_card(entry)
        if self.cards and select_first:
            self.select(0)
        self.cards_changed.emit()

    def clear(self) -> None:
        for card in self.cards:
            self._grid.removeWidget(card)
            card.deleteLater()
        self.cards = []
        self.current_index = -1
        self._placeholder.setVisible(True)

    def _add_card(self, entry: ClipEntry) -> CandidateCard:
        card = CandidateCard(entry)
        if self.fit_levels:
            card.set_fit_level(True)
        card.drag_handler = self._drag_handler
        card.clicked.connect(self._on_card_clicked)
        card.play_clicked.connect(lambda c: (self.select(self.cards.index(c)), self.play_toggled.emit(c.entry)))
        card.more_clicked.connect(lambda c: self.more_like_this.emit(c.entry))
        card.keep_clicked.connect(lambda c: (self.keep_requested.emit(c.entry), self.cards_changed.emit()))
        self.cards.append(card)
        self._placeholder.setVisible(False)
        self._reflow()
        return card

    def _reflow(self) -> None:
        """As many columns as fit the width (at least one); Up/Down move by a row."""
        if not self.cards:
            return
        card_width = self.cards[0].sizeHint().width() + self._grid.horizontalSpacing()
        columns = max(1, (self.viewport().width() - 8) // max(1, card_width))
        if columns == self.columns and self._grid.count() == len(self.cards) + 1:
            return
        self.columns = columns
        for card in self.cards:
            self._grid.removeWidget(card)
        for n, card in enumerate(self.cards):
            self._grid.addWidget(card, n // columns, n % columns)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._reflow()

    def current(self) -> Optional[ClipEntry]:
        return self.cards[self.current_index].entry if 0 <= self.current_index < len(self.cards) else None

    def select(self, index: int) -> None:
        if not self.cards:
            return
        index = max(0, min(index, len(self.cards) - 1))
        changed = index != self.current_index
        for i, card in enumerate(self.cards):
            card.set_selected(i == index)
        self.current_index = index
        self.ensureWidgetVisible(self.cards[index])
        if changed:
            self.current_changed.emit(self.cards[index].entry)

    def sync_with_library(self, library) -> None:
        """After library changes: a take deleted or purged there no longer says "Kept" here."""
        for card in self.cards:
            if card.entry.library_id is None:
                continue
            try:
                item = library.get(card.entry.library_id)
            except LoaError:  # deleted for good
                card.entry.library_id = None
                card.set_kept(False)
                continue
            card.set_kept(item.kept and not item.trashed)

    def card_for(self, entry: ClipEntry) -> Optional[CandidateCard]:
        return next((c for c in self.cards if c.entry is entry), None)

    def mark_playing(self, entry: Optional[ClipEntry]) -> None:
        for card in self.cards:
            card.set_playing(card.entry is entry)

    def _on_card_clicked(self, card: CandidateCard) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.select(self.cards.index(card))
        self.audition_requested.emit(card.entry)

    def keyPressEvent(self, event) -> None:
        key = event.key()
        moves = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -self.columns, Qt.Key.Key_Down: self.columns}
        if key in moves and self.cards:
            self.select(max(0, self.current_index) + moves[key])
        elif key == Qt.Key.Key_Home and self.cards:
            self.select(0)
        elif key == Qt.Key.Key_End and self.cards:
            self.select(len(self.cards) - 1)
        elif key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.current() is not None:
            self.play_toggled.emit(self.current())
        elif key == Qt.Key.Key_K and self.current() is not None:
            self.keep_requested.emit(self.current())
            self.cards_changed.emit()
        else:
            super().keyPressEvent(event)
