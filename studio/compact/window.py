"""Compact mode: a small always-on-top window beside the DAW with the prompt, Generate, the latest takes (each with
a drag handle that drags the take out as a file), the pads and the tempo.

It drives the main window's own panels, so everything behaves as in the full window: the prompt is the generation
panel's prompt, Generate runs its request, a take's click auditions it, the pads are the same pads. Its position
and size are remembered (studio.ini, compact/geometry).
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.midi.pad_grid import PadGrid
from studio.midi.tempo_widget import TempoWidget


class TakeChip(QWidget):
    """One take in the strip: a play button with its label and a ⠿ handle that starts a drag-out."""

    def __init__(self, entry, window, number: int = 1, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.entry = entry
        # "#3 0.33": short enough that the takes fit side by side, and still tell them apart; the rest is in
        # the tooltip (the full label read "score 0.329 · seed 53…" on every chip, cut and indistinguishable).
        score = getattr(entry, "score", None)
        bars = getattr(entry, "bars_text", "")  # a bar-locked take: "4 bars · 128.0 BPM"
        text = f"#{number} {score:.2f}" if score is not None else f"#{number}"
        self.play_button = QPushButton(f"{text} · {bars.replace(' bars', 'b').replace(' bar', 'b')}" if bars else text)
        label = entry.label if hasattr(entry, "label") else ""
        self.play_button.setToolTip(f"Take #{number}: {label}\n{entry.prompt}\n"
                                    "Click to audition; drag the handle into your DAW.")
        self.play_button.clicked.connect(lambda: window.auditioner.toggle(entry))
        self.handle = QToolButton()
        self.handle.setObjectName("dragHandle")
        self.handle.setText("⠿")
        self.handle.setToolTip("Drag into your DAW or desktop (exported as set in Settings > Export format)")
        self.handle.pressed.connect(lambda: self._drag(window))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addWidget(self.handle)
        layout.addWidget(self.play_button)

    def _drag(self, window) -> None:
        handler = getattr(window.candidates, "_drag_handler", None)
        if handler is not None:
            handler(self.entry, self.handle)


class CompactWindow(QWidget):
    def __init__(self, window, midi_tools) -> None:
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.WindowStaysOnTopHint | Qt.WindowType.Tool)
        self.setObjectName("compactWindow")
        self.setWindowTitle("LOA Studio — compact")
        self.window_ = window
        self.tools = midi_tools
        panel = window.generation_panel
        self.prompt_edit = QLineEdit(panel.prompt_edit.text())
        self.prompt_edit.setObjectName("compactPrompt")
        self.prompt_edit.setPlaceholderText(panel.prompt_edit.placeholderText())
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("compactGenerate")
        self.full_button = QPushButton("Full window")
        self.strip = QGridLayout()  # chips wrap onto rows: the strip never scrolls sideways
        self.strip.setContentsMargins(0, 0, 0, 0)
        self.strip.setSpacing(4)
        strip_box = QWidget()
        strip_box.setLayout(self.strip)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(strip_box)
        scroll.setFixedHeight(64)  # two rows of chips in view; more takes scroll down
        self.placeholder = QLabel("Takes appear here.")
        self.strip.addWidget(self.placeholder, 0, 0)
        self.chips: list[TakeChip] = []
        self.pads = PadGrid(midi_tools.controller, window.selected_entry, window.show_error, library=window.library)
        self.tempo = TempoWidget(midi_tools.controller)

        row = QHBoxLayout()
        row.addWidget(self.prompt_edit, 1)
        row.addWidget(self.generate_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(row)
        layout.addWidget(scroll)
        layout.addWidget(self.pads, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.tempo, 1)
        bottom.addWidget(self.full_button)
        layout.addLayout(bottom)
        self.resize(420, 420)

        # One prompt: typing here types in the panel and back.
        self.prompt_edit.textEdited.connect(panel.prompt_edit.setText)
        panel.prompt_edit.textChanged.connect(self._panel_prompt)
        self.prompt_edit.returnPressed.connect(self.generate)
        self.generate_button.clicked.connect(self.generate)
        self.full_button.clicked.connect(self.back_to_full)
        bar = panel.generate_bar  # Generate here is off exactly when the full window's is, with the same reason
        bar.availability_changed.connect(self._show_availability)
        self._show_availability(panel.generate_button.isEnabled(), bar.reason.text())
        window.jobs.job_finished.connect(lambda *_: QTimer.singleShot(0, self.refresh_takes))
        self.refresh_takes()

    def _show_availability(self, possible: bool, reason: str) -> None:
        self.generate_button.setEnabled(possible)
        self.generate_button.setToolTip("Generate (Enter)" if possible else f"{reason}: install it with Models… "
                                        "in the full window")

    def _panel_prompt(self, text: str) -> None:
        if self.prompt_edit.text() != text:
            self.prompt_edit.setText(text)

    def generate(self) -> None:
        self.window_.generation_panel.prompt_edit.setText(self.prompt_edit.text())
        self.window_.generation_panel.request_generate()

    def refresh_takes(self) -> None:
        """The main window's current candidates, as chips."""
        for chip in self.chips:
            self.strip.removeWidget(chip)
            chip.deleteLater()
        self.chips = [TakeChip(card.entry, self.window_, n) for n, card in
                      enumerate(self.window_.candidates.cards, start=1)]
        self.placeholder.setVisible(not self.chips)
        self._reflow()

    def _reflow(self) -> None:
        """As many chips per row as the strip's width holds."""
        if not self.chips:
            return
        for chip in self.chips:
            self.strip.removeWidget(chip)
        widest = max(chip.sizeHint().width() for chip in self.chips) + self.strip.spacing()
        room = self.scroll.viewport().width() - self.scroll.verticalScrollBar().sizeHint().width()
        columns = max(1, room // widest)
        for i, chip in enumerate(self.chips):
            self.strip.addWidget(chip, i // columns, i % columns)
        self.strip.setColumnStretch(columns, 1)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._reflow()

    def back_to_full(self) -> None:
        self.tools.set_compact(False)

    # ---- position ---------------------------------------------------------------------------------------
    def show_restored(self) -> None:
        geometry = self.tools.controller.store.compact_geometry
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.show()
        self.raise_()

    def remember(self) -> None:
        self.tools.controller.store.compact_geometry = self.saveGeometry()

    def moveEvent(self, event) -> None:
        super().moveEvent(event)
        self.remember()

    def closeEvent(self, event) -> None:
        self.remember()
        super().closeEvent(event)
        self.tools.compact_closed()
