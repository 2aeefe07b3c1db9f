"""Settings > MIDI…: choose the input port (re-scan), see the MIDI status, learn and clear mappings.

Learn: press "Learn" beside an action, then press a pad/key or move a knob on the controller; the binding shows at
once, with a note when it replaced another binding or shadows a pad. Mappings persist in studio.ini.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from core.devices.midi_learn import ACTIONS, CONTINUOUS_ACTIONS

from .controller import MidiController

NO_INPUT = "(none)"


class MidiDialog(QDialog):
    def __init__(self, controller: MidiController, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MIDI")
        self.setObjectName("midiDialog")
        self.controller = controller
        self.input_combo = QComboBox()
        self.input_combo.setObjectName("midiInputCombo")
        self.rescan_button = QPushButton("Re-scan")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.learn_label = QLabel("Press Learn, then a pad, key or knob on the controller.")
        self.learn_label.setWordWrap(True)
        self.binding_labels: dict[str, QLabel] = {}
        self.learn_buttons: dict[str, QPushButton] = {}

        top = QHBoxLayout()
        top.addWidget(QLabel("MIDI input"))
        top.addWidget(self.input_combo, 1)
        top.addWidget(self.rescan_button)
        grid = QGridLayout()
        for row, (action, label) in enumerate(ACTIONS.items()):
            kind = " (knob/fader)" if action in CONTINUOUS_ACTIONS else ""
            grid.addWidget(QLabel(label + kind), row, 0)
            self.binding_labels[action] = QLabel()
            grid.addWidget(self.binding_labels[action], row, 1)
            learn = QPushButton("Learn")
            learn.setObjectName(f"learn_{action}")
            learn.clicked.connect(lambda _=False, a=action: self.learn(a))
            self.learn_buttons[action] = learn
            grid.addWidget(learn, row, 2)
            clear = QPushButton("Clear")
            clear.clicked.connect(lambda _=False, a=action: self.clear(a))
            grid.addWidget(clear, row, 3)
        clear_all = QPushButton("Clear all mappings")
        clear_all.clicked.connect(lambda: self.clear(None))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status_label)
        layout.addLayout(grid)
        layout.addWidget(self.learn_label)
        layout.addWidget(clear_all)
        layout.addWidget(buttons)

        self.rescan_button.clicked.connect(self.fill_inputs)
        self.input_combo.activated.connect(self._chosen)
        controller.status_changed.connect(self.status_label.setText)
        controller.learned.connect(self._learned)
        self.fill_inputs()
        self.show_bindings()

    def fill_inputs(self) -> None:
        ports = self.controller.ports()
        self.input_combo.clear()
        self.input_combo.addItem(NO_INPUT)
        self.input_combo.addItems(ports)
        current = self.controller.midi.port
        if current in ports:
            self.input_combo.setCurrentIndex(ports.index(current) + 1)
        self.status_label.setText(self.controller.status)

    def _chosen(self, index: int) -> None:
        self.controller.choose_input(None if index == 0 else self.input_combo.itemText(index))

    def show_bindings(self) -> None:
        for action, label in self.binding_labels.items():
            trigger = self.controller.mapping.bindings.get(action)
            label.setText(trigger.describe() if trigger else "—")

    def learn(self, action: str) -> None:
        self.controller.start_learning(action)
        self.learn_label.setText(f"Learning {ACTIONS[action]}: press a pad or key, or move a knob…")

    def clear(self, action: Optional[str]) -> None:
        self.controller.clear_mapping(action)
        self.show_bindings()
        self.learn_label.setText("Cleared." if action is None else f"Cleared {ACTIONS[action]}.")

    def _learned(self, result) -> None:
        self.learn_label.setText(result.message())
        self.show_bindings()
