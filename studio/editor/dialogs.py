"""Small parameter dialogs for edit operations (gain, normalise, insert silence, resample, generative edits).

Each `ask_*` returns the parameters as a dict, or None when the user cancels. Defaults come from the core module
(core.editing) so the window and the CLI agree.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from core.tempo.bars import MAX_BPM

RESAMPLE_RATES = (8_000, 16_000, 22_050, 32_000, 44_100, 48_000, 88_200, 96_000)


class ParameterDialog(QDialog):
    """A form of named fields with OK / Cancel; `values()` reads them back."""

    def __init__(self, title: str, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("editParameterDialog")
        self.form = QFormLayout(self)
        self._fields: dict[str, QWidget] = {}
        self._buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)

    def number(self, key: str, label: str, value: float, low: float, high: float, decimals: int = 2,
               suffix: str = "", step: float = 1.0) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(low, high)
        spin.setDecimals(decimals)
        spin.setSingleStep(step)
        spin.setValue(value)
        spin.setSuffix(suffix)
        spin.setObjectName(key)
        return self._add(key, label, spin)

    def integer(self, key: str, label: str, value: int, low: int, high: int, suffix: str = "") -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setSuffix(suffix)
        spin.setObjectName(key)
        return self._add(key, label, spin)

    def choice(self, key: str, label: str, options: list[tuple[str, object]], current: object = None) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(key)
        for text, value in options:
            combo.addItem(text, value)
        if current is not None:
            combo.setCurrentIndex(max(0, combo.findData(current)))
        return self._add(key, label, combo)

    def text(self, key: str, label: str, value: str = "", placeholder: str = "") -> QLineEdit:
        edit = QLineEdit(value)
        edit.setPlaceholderText(placeholder)
        edit.setObjectName(key)
        return self._add(key, label, edit)

    def _add(self, key: str, label: str, widget: QWidget):
        self._fields[key] = widget
        self.form.addRow(label, widget)
        return widget

    def values(self) -> dict:
        out = {}
        for key, widget in self._fields.items():
            if isinstance(widget, (QDoubleSpinBox, QSpinBox)):
                out[key] = widget.value()
            elif isinstance(widget, QComboBox):
                out[key] = widget.currentData()
            elif isinstance(widget, QLineEdit):
                out[key] = widget.text().strip()
        return out

    def ask(self) -> Optional[dict]:
        self.form.addRow(self._buttons)
        return self.values() if self.exec() == QDialog.DialogCode.Accepted else None


def gain_dialog(parent) -> ParameterDialog:
    dialog = ParameterDialog("Gain", parent)
    dialog.number("db", "Gain", 0.0, -60.0, 40.0, 1, " dB", 0.5)
    return dialog


def normalize_peak_dialog(parent) -> ParameterDialog:
    from core.editing.gain import DEFAULT_PEAK_DBFS

    dialog = ParameterDialog("Normalise peak", parent)
    dialog.number("dbfs", "Peak", DEFAULT_PEAK_DBFS, -60.0, 0.0, 1, " dBFS", 0.5)
    return dialog


def normalize_loudness_dialog(parent) -> ParameterDialog:
    from core.editing.gain import DEFAULT_LUFS, DEFAULT_TRUE_PEAK_DBTP

    dialog = ParameterDialog("Normalise loudness (ITU-R BS.1770)", parent)
    dialog.number("lufs", "Integrated loudness", DEFAULT_LUFS, -70.0, -5.0, 1, " LUFS", 0.5)
    dialog.number("true_peak_limit", "True-peak limit", DEFAULT_TRUE_PEAK_DBTP, -20.0, 0.0, 1, " dBTP", 0.5)
    return dialog


def insert_silence_dialog(parent) -> ParameterDialog:
    dialog = ParameterDialog("Insert silence", parent)
    dialog.number("seconds", "Length", 1.0, 0.001, 600.0, 3, " s", 0.1)
    return dialog


def resample_dialog(parent, current_rate: int) -> ParameterDialog:
    dialog = ParameterDialog("Resample", parent)
    rates = sorted(set(RESAMPLE_RATES) | {current_rate})
    dialog.choice("rate", "Sample rate", [(f"{r / 1000:g} kHz", r) for r in rates], current_rate)
    return dialog


def generative_dialog(title: str, parent, *, seconds: Optional[float] = None, bars: bool = False,
                      strength: bool = False, prompt_hint: str = "", bpm: float = 0.0, steps: Optional[int] = None,
                      guidance: Optional[float] = None, negative: str = "") -> ParameterDialog:
    """Prompt (optional unless transforming), the operation's own length / bars / strength, then negative prompt,
    steps and guidance, filled in from the generation panel (else core.generation.defaults)."""
    from core.generation.defaults import SOUND
    from core.generation.requests import MAX_GUIDANCE, MAX_STEPS

    dialog = ParameterDialog(title, parent)
    dialog.text("prompt", "Prompt", placeholder=prompt_hint or "optional: what it should sound like")
    if seconds is not None:
        dialog.number("seconds", "Seconds to add", seconds, 0.1, 30.0, 2, " s", 0.5)
    if bars:
        dialog.integer("bars", "Bars to add", 1, 1, 16)
        dialog.number("bpm", "Tempo (0 = detect)", bpm, 0.0, MAX_BPM, 1, " BPM", 1.0)
    if strength:
        dialog.number("strength", "Strength", 0.5, 0.0, 1.0, 2, "", 0.05)
    dialog.text("negative_prompt", "Negative", negative, placeholder="optional: what to steer away from")
    dialog.integer("steps", "Steps", SOUND.steps if steps is None else steps, 1, MAX_STEPS)
    dialog.number("guidance", "Guidance", SOUND.guidance if guidance is None else guidance, 0.0, MAX_GUIDANCE, 2,
                  "", 0.5)
    return dialog
