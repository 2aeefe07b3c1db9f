"""Labels for messages that may hold long paths or file names.

A word-wrapped QLabel cannot break a word, so one long path sets its minimum width, and the window or dialog
around it grows past the screen (an export error with a deep folder made the main window 1691 px wide).
`WrappingLabel` wraps such words after / _ . - instead; `text()` gives the text as it was set.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from studio.shell.gui_text import wrappable


class WrappingLabel(QLabel):
    def __init__(self, text: str = "", parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self._plain = ""
        self.setText(text)

    def setText(self, text: str) -> None:
        self._plain = text
        super().setText(wrappable(text))

    def text(self) -> str:
        return self._plain


class ElidedLabel(QLabel):
    """One line that never widens its panel: text too long for the width ends in "…", the whole text is in the
    tooltip; `text()` gives the text as it was set."""

    def __init__(self, text: str = "", parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def text(self) -> str:
        return self._full

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width) if width > 0 \
            else self._full
        super().setText(shown)
