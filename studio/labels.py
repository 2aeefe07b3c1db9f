"""Labels for messages that may hold long paths or file names.

A word-wrapped QLabel cannot break a word, so one long path sets its minimum width, and the window or dialog
around it grows past the screen (an export error with a deep folder made the main window 1691 px wide).
`WrappingLabel` wraps such words after / _ . - instead; `text()` gives the text as it was set.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QLabel, QWidget

from .gui_text import wrappable


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
