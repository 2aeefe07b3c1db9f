"""Small input widgets of the generation panel: the seed field, number boxes that say their limit when typed past
it, and the licence line shown beside the model picker."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator, QValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QSpinBox,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QToolTip,
    QWidget,
)

from core.generation.requests import MAX_CANDIDATES, MAX_SEED


class ElidedComboBox(QComboBox):
    """A combo box that may be narrower than its items (long model folders): the shown item ends in "…" instead
    of being cut mid-word, and the tooltip names it in full."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(6)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.shown_text() != self.currentText():
            tip = self.toolTip()
            QToolTip.showText(event.globalPos(), f"{self.currentText()}\n{tip}" if tip else self.currentText(), self)
            return True
        return super().event(event)

    def shown_text(self) -> str:
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        return self.fontMetrics().elidedText(self.currentText(), Qt.TextElideMode.ElideRight, field.width())

    def paintEvent(self, _event) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        option.currentText = self.shown_text()
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


class SeedField(QLineEdit):
    """The seed as digits: seeds go up to 2**32, past what a QSpinBox (a C int) can hold."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("seedField")
        self.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,10}"), self))
        self.setPlaceholderText("random")
        self.setToolTip(f"0 to {MAX_SEED - MAX_CANDIDATES}; candidate i uses seed + i")

    def value(self) -> Optional[int]:
        return int(self.text()) if self.text() else None

    def setValue(self, seed: int) -> None:
        self.setText(str(int(seed)))


class _SaysLimit:
    """A spin box refuses keystrokes past its maximum without a word; this one says what the maximum is."""

    what = "value"

    def validate(self, text: str, pos: int):
        answer = super().validate(text, pos)
        state = answer[0] if isinstance(answer, tuple) else answer
        if state == QValidator.State.Invalid:
            number = _number(text, self.suffix())
            if number is not None and number > self.maximum():
                self.limit_hit.emit(f"{self.what} can be at most {self.textFromValue(self.maximum())}"
                                    f"{self.suffix()}.")
        return answer


class LimitedSpin(_SaysLimit, QSpinBox):
    limit_hit = Signal(str)

    def __init__(self, what: str, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.what = what


class LimitedDoubleSpin(_SaysLimit, QDoubleSpinBox):
    limit_hit = Signal(str)

    def __init__(self, what: str, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.what = what


def _number(text: str, suffix: str) -> Optional[float]:
    text = text.strip()
    if suffix.strip() and text.endswith(suffix.strip()):
        text = text[: -len(suffix.strip())]
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def licence_text(licence: str) -> str:
    """The licence as a user needs to read it before using a take in their work."""
    if not licence or licence.startswith("unknown"):
        return "Licence: unknown — check the model card before using the audio."
    if "-NC" in licence.upper() or "NONCOMMERCIAL" in licence.upper().replace("-", ""):
        return f"Licence: {licence} — non-commercial use only."
    return f"Licence: {licence}"
