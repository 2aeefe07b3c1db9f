"""Music mode: duration in bars at the session tempo and meter, ended by a short fade or a loop-closing pass.

A row under Duration in the generation panel (shown in Music mode only). When "Bars" is on, the job carries a
`bar_lock` (bars, session BPM, meter, ending) and studio.modes runs core.generation.bar_locked, so the
take is exactly that many bars at the output rate.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from core.audio.bars import bar_seconds
from core.generation.bar_locked import BarLock

from .controller import MidiController

ENDING_LABELS = (("Short fade", "fade"), ("Close the loop", "close-loop"))


class BarsRow(QWidget):
    def __init__(self, controller: MidiController, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("barsRow")
        self.controller = controller
        self.enabled_box = QCheckBox("Bars")
        self.enabled_box.setObjectName("barsEnabled")
        self.enabled_box.setToolTip("Make the take exactly this many bars at the session tempo (Tempo, below the pads)")
        self.bars_spin = QSpinBox()
        self.bars_spin.setObjectName("barsSpin")
        self.bars_spin.setRange(1, 32)
        self.bars_spin.setValue(4)
        self.ending_combo = QComboBox()
        for label, value in ENDING_LABELS:
            self.ending_combo.addItem(label, value)
        self.ending_combo.setToolTip("Short fade: cut at the bar line with a 10 ms fade. Close the loop: regenerate "
                                     "the last second so the end flows into the start (takes longer).")
        self.tempo_label = QLabel()
        self.tempo_label.setWordWrap(True)
        controls = QHBoxLayout()  # the tempo note goes below: the settings column stays narrow at 1024 px
        controls.addWidget(self.enabled_box)
        controls.addWidget(self.bars_spin)
        controls.addWidget(self.ending_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(controls)
        layout.addWidget(self.tempo_label)
        controller.tempo_changed.connect(lambda *_: self.show_tempo())
        self.enabled_box.toggled.connect(lambda *_: self.show_tempo())
        self.bars_spin.valueChanged.connect(lambda *_: self.show_tempo())
        self.show_tempo()

    def show_tempo(self) -> None:
        c = self.controller
        seconds = bar_seconds(self.bars_spin.value(), c.bpm, c.beats_per_bar, c.beat_unit)
        self.tempo_label.setText(f"at {c.bpm:g} BPM, {c.beats_per_bar}/{c.beat_unit} ({seconds:.2f} s)")

    def lock(self) -> Optional[BarLock]:
        if not self.enabled_box.isChecked():
            return None
        c = self.controller
        return BarLock(self.bars_spin.value(), c.bpm, c.beats_per_bar, self.ending_combo.currentData(),
                       c.beat_unit).validated()

    def job_inputs(self, _request) -> dict:
        """For GenerationPanel.extra_inputs["music"]: the bar lock as the job's extra (InputError if impossible)."""
        lock = self.lock()
        if lock is None:
            return {}
        return {"bar_lock": {"bars": lock.bars, "bpm": lock.bpm, "beats_per_bar": lock.beats_per_bar,
                             "beat_unit": lock.beat_unit, "ending": lock.ending}}
