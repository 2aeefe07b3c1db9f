"""Settings > MIDI…: choose the input ports (tick one or several: a controller and a DAW's clock; re-scan), see the
MIDI status, learn and clear mappings.

Learn: press "Learn" beside an action, then press a pad/key or move a knob on the controller; the binding shows at
once, with a note when it replaced another binding or shadows a pad. Mappings persist in studio.ini.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.devices.midi_learn import ACTIONS, CONTINUOUS_ACTIONS
from studio.midi.controller import MidiController

ABSENT = " (not connected)"


class MidiDialog(QDialog):
    def __init__(self, controller: MidiController, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MIDI")
        self.setObjectName("midiDialog")
        self.controller = controller
        self.input_list = QListWidget()
        self.input_list.setObjectName("midiInputList")
        self.input_list.setToolTip("Tick each input to listen to: several at once (a controller's pads and a DAW's "
                                   "clock) work together; the tempo follows the first that sends a clock")
        self.input_list.setMaximumHeight(110)
        self.rescan_button = QPushButton("Re-scan")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.learn_label = QLabel("Press Learn, then a pad, key or knob on the controller.")
        self.learn_label.setWordWrap(True)
        self.binding_labels: dict[str, QLabel] = {}
        self.learn_buttons: dict[str, QPushButton] = {}

        top = QHBoxLayout()
        top.addWidget(QLabel("MIDI inputs"), 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.input_list, 1)
        top.addWidget(self.rescan_button, 0, Qt.AlignmentFlag.AlignTop)
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
        self.input_list.itemChanged.connect(self._chosen)
        controller.status_changed.connect(self.status_label.setText)
        controller.learned.connect(self._learned)
        self.fill_inputs()
        self.show_bindings()

    def fill_inputs(self) -> None:
        """One ticked row per input listened to, one unticked per other port present; a chosen input that is
        unplugged stays ticked, marked "(not connected)"."""
        ports = self.controller.ports()
        listening = self.controller.midi.open_ports
        absent = [w for w in self.controller.midi.wanted if not any(w.lower() in p.lower() for p in listening)]
        self.input_list.blockSignals(True)
        self.input_list.clear()
        for name in ports + absent:
            item = QListWidgetItem(name if name in ports else name + ABSENT)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            ticked = name in listening or name in absent
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
            self.input_list.addItem(item)
        self.input_list.blockSignals(False)
        self.status_label.setText(self.controller.status)

    def checked_inputs(self) -> list[str]:
        items = (self.input_list.item(i) for i in range(self.input_list.count()))
        return [item.data(Qt.ItemDataRole.UserRole) for item in items
                if item.checkState() == Qt.CheckState.Checked]

    def _chosen(self, _item=None) -> None:
        self.controller.choose_inputs(self.checked_inputs())

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
