"""Music mode: duration in bars at the session tempo and meter, ended by a short fade or a loop-closing pass.

A row under Duration in the generation panel (shown in Music mode only). When "Bars" is on, the job carries a
`bar_lock` (bars, session BPM, meter, ending) and studio.generate.modes runs core.generation.bar_locked, so the
take is exactly that many bars at the output rate.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from core.errors import InputError
from core.generation.bar_locked import BarLock
from core.tempo.bars import MAX_BPM, MIN_BPM, bar_seconds
from studio.midi.controller import MidiController

ENDING_LABELS = (("Short fade", "fade"), ("Close the loop", "close-loop"))


class BarsRow(QWidget):
    length_changed = Signal()  # bars, tempo or meter changed: the take's length in seconds too

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
        self.bpm_spin = QDoubleSpinBox()  # the session tempo, the same one as the Pads dock's field
        self.bpm_spin.setObjectName("musicBpmSpin")
        self.bpm_spin.setRange(MIN_BPM, MAX_BPM)
        self.bpm_spin.setDecimals(1)
        self.bpm_spin.setSuffix(" BPM")
        self.bpm_spin.setKeyboardTracking(False)
        self.bpm_spin.setToolTip("Session tempo (also in the Pads dock); a running MIDI clock sets it")
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
        tempo = QHBoxLayout()
        tempo.addWidget(QLabel("Tempo"))
        tempo.addWidget(self.bpm_spin)
        tempo.addWidget(self.tempo_label, 1)
        layout.addLayout(tempo)
        self.bpm_spin.valueChanged.connect(self._typed)
        controller.tempo_changed.connect(lambda *_: self.show_tempo())
        self.bars_spin.valueChanged.connect(lambda *_: self.show_tempo())
        self.enabled_box.toggled.connect(lambda *_: self.show_tempo())
        self.show_tempo()

    def bpm(self) -> float:
        """The session tempo as every tempo field shows it (0.1 BPM, rounded as the Pads dock's field rounds):
        one value, and the one a bar-locked take is made at."""
        self._show_bpm()
        return self.bpm_spin.value()

    def _show_bpm(self) -> None:
        self.bpm_spin.blockSignals(True)
        self.bpm_spin.setValue(self.controller.bpm)
        self.bpm_spin.blockSignals(False)

    def seconds(self) -> float:
        c = self.controller
        return bar_seconds(self.bars_spin.value(), self.bpm(), c.beats_per_bar, c.beat_unit)

    def _typed(self, value: float) -> None:
        if abs(value - self.bpm()) < 0.05:
            return
        try:
            self.controller.set_bpm(value, "manual")
        except InputError:
            pass

    def show_tempo(self) -> None:
        c = self.controller
        self._show_bpm()
        clock = getattr(c, "tempo_source", "") == "clock"
        self.bpm_spin.setReadOnly(clock)
        meter = f"{c.beats_per_bar}/{c.beat_unit} · {self.seconds():.2f} s"
        self.tempo_label.setText(meter + (" · MIDI clock" if clock else ""))
        self.length_changed.emit()

    def lock(self) -> Optional[BarLock]:
        if not self.enabled_box.isChecked():
            return None
        c = self.controller
        return BarLock(self.bars_spin.value(), self.bpm(), c.beats_per_bar, self.ending_combo.currentData(),
                       c.beat_unit).validated()

    def job_inputs(self, _request) -> dict:
        """For GenerationPanel.extra_inputs["music"]: the bar lock as the job's extra (InputError if impossible)."""
        lock = self.lock()
        if lock is None:
            return {}
        return {"bar_lock": {"bars": lock.bars, "bpm": lock.bpm, "beats_per_bar": lock.beats_per_bar,
                             "beat_unit": lock.beat_unit, "ending": lock.ending}}
