"""A readout label that never cuts a word: it holds wordings from the fullest to the shortest and shows the
fullest one its width allows; the tooltip always says it in full.

    label = ReadoutLabel("selectionReadout")
    label.set_forms(["0.500 s – 1.500 s (1.000 s) · bars 1.2.00 – 1.4.00 (0:2)", "0.500 s – 1.500 s (1.000 s)"],
                    tooltip="Selection start – end (length): ...")
    label.text()        # the wording shown now
    label.full_text()   # the fullest wording
"""

from __future__ import annotations

from typing import Optional, Sequence

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ReadoutLabel(QLabel):
    def __init__(self, name: str, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._forms: list[str] = [""]
        # Its size hints come from its wordings, not from the one shown, so choosing a shorter wording on a
        # resize never asks the layout for another size (no resize loop).
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def set_forms(self, forms: Sequence[str], tooltip: str = "") -> None:
        self._forms = [f for f in forms if f] or [""]
        self.setToolTip(tooltip or self._forms[0])
        self.updateGeometry()
        self._fit()

    def full_text(self) -> str:
        return self._forms[0]

    def width_of(self, text: str) -> int:
        margins = self.contentsMargins()
        return self.fontMetrics().horizontalAdvance(text) + 2 * self.margin() + margins.left() + margins.right() + 2

    def sizeHint(self) -> QSize:
        return QSize(self.width_of(self._forms[0]), super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self.width_of(self._forms[-1]), super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        room = self.width()
        shown = next((form for form in self._forms if self.width_of(form) <= room), self._forms[-1])
        if shown != self.text():
            super().setText(shown)
