"""The session tempo in the window: a BPM field, Tap, the meter (beats per bar / beat unit), and where the
tempo comes from.

While a MIDI clock runs, the field follows it and is read-only ("MIDI clock"); without one, type a tempo or tap it.
When the clock stops (no pulse for a second) or its port goes away, the field keeps the clock's last tempo and takes
typed values again.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from core.errors import InputError
from core.tempo.bars import BEAT_UNITS, MAX_BPM, MIN_BPM
from studio.midi.controller import MidiController

SOURCES = {"clock": "MIDI clock", "tap": "tapped", "manual": ""}


class TempoWidget(QWidget):
    def __init__(self, controller: MidiController, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("tempoWidget")
        self.controller = controller
        self.bpm_spin = QDoubleSpinBox()
        self.bpm_spin.setObjectName("bpmSpin")
        self.bpm_spin.setRange(MIN_BPM, MAX_BPM)
        self.bpm_spin.setDecimals(1)
        self.bpm_spin.setSuffix(" BPM")
        self.bpm_spin.setKeyboardTracking(False)
        self.bpm_spin.setValue(controller.bpm)
        self.bpm_spin.setToolTip("Session tempo: bars in Music mode and Extend loop use it. A MIDI clock sets it.")
        self.tap_button = QPushButton("Tap")
        self.tap_button.setObjectName("tapButton")
        self.tap_button.setToolTip("Tap the beat (four taps or more); ignored while a MIDI clock runs")
        self.tap_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.meter_spin = QSpinBox()
        self.meter_spin.setRange(1, 16)
        self.meter_spin.setValue(controller.beats_per_bar)
        self.meter_spin.setToolTip("Beats per bar")
        self.unit_combo = QComboBox(objectName="beatUnitCombo")
        for unit in BEAT_UNITS:
            self.unit_combo.addItem(f"/{unit}", unit)
        self.unit_combo.setCurrentIndex(self.unit_combo.findData(controller.beat_unit))
        self.unit_combo.setToolTip("Beat unit, the meter's lower number (8 for 7/8 or 6/8); the tempo counts "
                                   "quarter notes, as DAWs do")
        self.source_label = QLabel()
        self.transport_label = QLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Tempo"))
        layout.addWidget(self.bpm_spin)
        layout.addWidget(self.tap_button)
        layout.addWidget(self.meter_spin)
        layout.addWidget(self.unit_combo)
        layout.addWidget(self.source_label)
        layout.addWidget(self.transport_label)
        layout.addStretch(1)

        self.bpm_spin.valueChanged.connect(self._typed)
        self.tap_button.clicked.connect(controller.tap)
        self.meter_spin.valueChanged.connect(controller.set_beats_per_bar)
        self.unit_combo.currentIndexChanged.connect(lambda _: controller.set_beat_unit(self.unit_combo.currentData()))
        controller.tempo_changed.connect(self.show_tempo)
        controller.transport.connect(self.show_transport)

    def _typed(self, value: float) -> None:
        if abs(value - self.controller.bpm) < 0.05:
            return
        try:
            self.controller.set_bpm(value, "manual")
        except InputError:
            pass

    def show_tempo(self, bpm: float, source: str) -> None:
        self.bpm_spin.blockSignals(True)
        self.bpm_spin.setValue(bpm)
        self.bpm_spin.blockSignals(False)
        self.bpm_spin.setReadOnly(source == "clock")
        self.source_label.setText(SOURCES.get(source, ""))

    def show_transport(self, what: str, seconds: float) -> None:
        playing = self.controller.transport_state.state.playing
        self.transport_label.setText("▶ DAW playing" if playing else "■ DAW stopped")
