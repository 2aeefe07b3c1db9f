"""The window's messages over time: the red error banner clears when a later action succeeds or after a while, and
every message and error is kept in a history (Help > Message history…) so a cleared one can be read again.

    log = MessageLog(window)     # the window's show_message / show_error call log.note / log.error
"""

from __future__ import annotations

import time
from collections import deque
from datetime import datetime

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout

ERROR_SHOWN_MS = 30_000  # an error banner clears itself after this long
SETTLE_SECONDS = 1.5  # a success note this soon after an error belongs to the same action: the error stays
HISTORY = 200  # messages kept


class MessageLog(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.entries: deque[tuple[str, str, str]] = deque(maxlen=HISTORY)  # (time, "error" | "note", text)
        self._error_at = 0.0
        self._clear = QTimer(self, singleShot=True, interval=ERROR_SHOWN_MS)
        self._clear.timeout.connect(self.clear_error)

    def note(self, text: str) -> None:
        """A message of an action that went through: a stale error no longer applies."""
        self._add("note", text)
        if self.window.error_banner.isVisible() and time.monotonic() - self._error_at > SETTLE_SECONDS:
            self.clear_error()

    def error(self, text: str) -> None:
        self._add("error", text)
        self._error_at = time.monotonic()
        self._clear.start()

    def clear_error(self) -> None:
        self._clear.stop()
        self.window.error_banner.setVisible(False)

    def _add(self, kind: str, text: str) -> None:
        if text and (not self.entries or self.entries[-1][1:] != (kind, text)):
            self.entries.append((datetime.now().strftime("%H:%M:%S"), kind, text))

    def history_text(self) -> str:
        return "\n".join(f"{at}  {'ERROR  ' if kind == 'error' else ''}{text}" for at, kind, text in self.entries) \
            or "No messages yet."

    def show_history(self) -> QDialog:
        dialog = QDialog(self.window)
        dialog.setObjectName("messageHistory")
        dialog.setWindowTitle("Message history")
        text = QPlainTextEdit(self.history_text())
        text.setReadOnly(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(text)
        layout.addWidget(buttons)
        dialog.resize(640, 360)
        dialog.show()
        return dialog
