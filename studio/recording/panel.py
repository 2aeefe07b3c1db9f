"""The Recording panel: Record / Stop, into-selection, the level meter, time or count-in, take number, count-in
options, and the chosen input. It shows what the RecordingController says and asks it to act; no audio here."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.devices.meter import FLOOR_DB, MeterReading
from core.tempo.bars import MAX_BPM, MIN_BPM
from studio.recording.controller import RecordingController
from studio.recording.meter_widget import LevelMeterWidget
from studio.shell.gui_text import for_the_window
from studio.shell.settings import COUNT_IN_MODES

COUNT_IN_LABELS = {"off": "No count-in", "visual": "Count-in: visual", "click": "Count-in: click"}


def clock(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes):02d}:{rest:04.1f}"


class RecordPanel(QWidget):
    record_requested = Signal(bool)   # True: into the waveform selection (punch-in)
    stop_requested = Signal()
    use_as_voice_requested = Signal()

    def __init__(self, controller: RecordingController, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("recordPanel")
        self.controller = controller
        settings = controller.settings

        self.record_button = QToolButton()
        self.record_button.setObjectName("recordPanelRecord")
        self.record_button.setText("● Record")
        self.record_button.setToolTip("Record a new take (R); with “Into selection”, replace the selected range")
        self.record_button.setStyleSheet("QToolButton { color: #d04040; font-weight: bold; }")
        self.stop_button = QToolButton()
        self.stop_button.setText("■ Stop")
        self.stop_button.setEnabled(False)
        self.into_selection = QCheckBox("Into selection")
        self.into_selection.setToolTip("Punch-in: the take replaces the waveform selection and stops at its length")
        self.meter = LevelMeterWidget()
        self.time_label = QLabel(clock(0.0))
        self.time_label.setObjectName("recordTime")
        self.time_label.setMinimumWidth(90)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.take_label = QLabel()
        self.take_label.setObjectName("takeCounter")

        self.count_in_combo = QComboBox()
        for mode in COUNT_IN_MODES:
            self.count_in_combo.addItem(COUNT_IN_LABELS[mode], mode)
        self.count_in_combo.setCurrentIndex(COUNT_IN_MODES.index(settings.count_in_mode))
        self.beats_spin = QSpinBox()
        self.beats_spin.setRange(1, 16)
        self.beats_spin.setSuffix(" beats")
        self.beats_spin.setValue(settings.count_in_beats)
        self.tempo_spin = QDoubleSpinBox()
        self.tempo_spin.setRange(MIN_BPM, MAX_BPM)
        self.tempo_spin.setDecimals(1)
        self.tempo_spin.setSuffix(" BPM")
        self.tempo_spin.setValue(settings.count_in_tempo)
        self.input_label = QLabel()
        self.input_label.setObjectName("recordInput")
        self.input_label.setStyleSheet("color: #808080;")
        self.input_label.setWordWrap(True)  # a long device message must not set the window's minimum width
        # Room for two lines: the dock starts at its smallest height, and advice cut after one line reads wrong.
        self.input_label.setMinimumHeight(2 * self.input_label.fontMetrics().lineSpacing() + 2)
        self.voice_button = QToolButton()
        self.voice_button.setText("Use take as speech voice")
        self.voice_button.setToolTip("Speech mode: the last take becomes the reference voice")
        self.voice_button.setEnabled(False)

        top = QHBoxLayout()
        for widget in (self.record_button, self.stop_button, self.into_selection):
            top.addWidget(widget)
        top.addWidget(self.meter, 1)
        top.addWidget(self.time_label)
        top.addWidget(self.take_label)
        bottom = QHBoxLayout()
        for widget in (self.count_in_combo, self.beats_spin, self.tempo_spin, self.voice_button):
            bottom.addWidget(widget)
        bottom.addWidget(self.input_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(top)
        layout.addLayout(bottom)

        self.record_button.clicked.connect(lambda: self.record_requested.emit(self.into_selection.isChecked()))
        self.stop_button.clicked.connect(self.stop_requested)
        self.voice_button.clicked.connect(self.use_as_voice_requested)
        self.meter.clip_reset_requested.connect(controller.reset_clip)
        self.count_in_combo.currentIndexChanged.connect(self._count_in_changed)
        self.beats_spin.valueChanged.connect(lambda v: setattr(settings, "count_in_beats", v))
        self.tempo_spin.valueChanged.connect(lambda v: setattr(settings, "count_in_tempo", v))
        controller.level.connect(self.meter.set_reading)
        controller.state_changed.connect(self._state_changed)
        controller.count_in.connect(self._count_in_beat)
        controller.elapsed.connect(lambda s: self.time_label.setText(clock(s)))
        self._count_in_changed()
        self._state_changed(controller.state)

    def set_input_text(self, text: str) -> None:
        self.input_label.setText(for_the_window(text))  # "re-scan devices" names the window's control

    def _count_in_changed(self, _index: int = 0) -> None:
        mode = self.count_in_combo.currentData()
        self.controller.settings.count_in_mode = mode
        self.beats_spin.setEnabled(mode != "off")
        self.tempo_spin.setEnabled(mode != "off")

    def _count_in_beat(self, beat: int, beats: int) -> None:
        self.time_label.setText(f"Count-in {beat} / {beats}")

    def _state_changed(self, state: str) -> None:
        busy = state != "idle"
        self.record_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self.into_selection.setEnabled(not busy)
        for widget in (self.count_in_combo, self.beats_spin, self.tempo_spin):
            widget.setEnabled(not busy and (widget is self.count_in_combo or self.count_in_combo.currentData() != "off"))
        self.record_button.setText("● Recording" if state == "recording" else "● Record")
        self.take_label.setText(f"Take {self.controller.next_take_number}" if state == "recording"
                                else f"Next: take {self.controller.next_take_number}")
        self.voice_button.setEnabled(not busy and self.controller.last_take is not None)
        if state == "idle":  # the bars drop; the hold ticks and the clip light stay for a look
            last = self.meter.reading()
            floor = (FLOOR_DB,) * len(last.peak_db)
            self.meter.set_reading(MeterReading(floor, floor, last.hold_db, last.clipped))
