"""Format, bit depth and sample rate for files the app renders on its own (Batch render, a speech script's Export…).

The same table and checks as File > Export… and `loa batch/speak --format --bit-depth --rate`
(core.audio.formats.containers, core.audio.formats.take); the first item of each list is what those writers write when
nothing is chosen (WAV; 24-bit, or 32-bit float for a take that peaks above 0 dBFS; the model's own rate: 16 kHz,
48 kHz for the 48 kHz model). A combination that cannot be written is said in one line under the
pickers (`problem()`), and the owner keeps its button disabled until it is fixed.

    picker = FormatPicker()
    picker.changed.connect(update_buttons)
    write_script(result, folder, extension=picker.extension(), subtype=picker.choice().sample_format, ...)
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.audio.formats.containers import CONTAINERS, EXPORT_RATES, SAMPLE_FORMAT_LABELS, rate_label
from core.audio.formats.export import ExportSettings
from core.audio.formats.take import extension_for, take_choice
from core.errors import InputError

DEPTHS = ("pcm16", "pcm24", "pcm32", "float32")


class FormatPicker(QWidget):
    changed = Signal()

    def __init__(self, parent: Optional[QWidget] = None, name: str = "formatPicker") -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.format_combo = _combo(f"{name}Format", "WAV (default)",
                                   [(kind.label, key) for key, kind in CONTAINERS.items()])
        self.depth_combo = _combo(f"{name}Depth", "24-bit (default)", [(SAMPLE_FORMAT_LABELS[d], d) for d in DEPTHS])
        self.depth_combo.setItemData(0, "24-bit, or 32-bit float for a take that peaks above 0 dBFS (nothing clips)",
                                     Qt.ItemDataRole.ToolTipRole)
        self.rate_combo = _combo(f"{name}Rate", "Model's rate", [(rate_label(r), r) for r in EXPORT_RATES])
        self.rate_combo.setItemData(0, "The rate the model makes takes at: 16 kHz (AudioLDM 2), 48 kHz (the 48 kHz "
                                    "model)", Qt.ItemDataRole.ToolTipRole)
        self.format_combo.setToolTip("The files' format: the same choices as File > Export…")
        self.problem_label = QLabel(objectName=f"{name}Problem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #c0392b;")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for label, combo in (("Format", self.format_combo), ("Bit depth", self.depth_combo),
                             ("Rate", self.rate_combo)):
            row.addWidget(QLabel(label))
            row.addWidget(combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.problem_label)
        for combo in (self.format_combo, self.depth_combo, self.rate_combo):
            combo.currentIndexChanged.connect(self._update)
        self._update()

    def choice(self) -> ExportSettings:
        """The picked fields; None is the writer's default (a lossy format has no bit depth)."""
        container = self.format_combo.currentData()
        depth = self.depth_combo.currentData()
        if container is not None and CONTAINERS[container].lossy:
            depth = None
        return ExportSettings(container, depth, self.rate_combo.currentData())

    def extension(self) -> str:
        return extension_for(self.choice())

    def problem(self) -> str:
        """'' when the choice can be written, else one line naming the fix."""
        choice = self.choice()
        try:
            take_choice(choice.container, choice.sample_format, choice.sample_rate)
        except InputError as exc:
            return str(exc)
        return ""

    def _update(self) -> None:
        container = self.format_combo.currentData()
        lossy = container is not None and CONTAINERS[container].lossy
        self.depth_combo.setEnabled(not lossy)
        self.depth_combo.setToolTip(f"{CONTAINERS[container].label} is lossy: it has no bit depth." if lossy else "")
        problem = self.problem()
        self.problem_label.setText(problem)
        self.problem_label.setVisible(bool(problem))
        self.changed.emit()


def _combo(name: str, default: str, items: list[tuple[str, object]]) -> QComboBox:
    combo = QComboBox(objectName=name)
    # as narrow as its owner needs (the full text in the list and the tooltip): three of these must not widen a
    # dock at 1024 px
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    combo.addItem(default, None)
    for label, value in items:
        combo.addItem(label, value)
    return combo
