"""Generate with its state beside it: when the picked model is not installed, Generate is disabled, the reason
is shown next to it and "Install model…" opens the model manager; it comes back when the model is available."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from studio.shell.labels import WrappingLabel


class GenerateBar(QWidget):
    availability_changed = Signal(bool, str)  # (Generate possible, why not): other Generate buttons follow it

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("generateBar")
        self.button = QPushButton("Generate")
        self.button.setObjectName("generateButton")
        self.button.setDefault(True)
        self.button.setToolTip("Generate (Ctrl+Enter)")
        self.reason = WrappingLabel()  # why Generate is off, right beside it
        self.reason.setObjectName("generateReason")
        self.install_button = QPushButton("Install model…")
        self.install_button.setObjectName("installModelButton")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.button)
        row.addWidget(self.reason, 1)
        row.addWidget(self.install_button)
        self.show_model(None)

    def show_model(self, choice) -> None:
        """Enable Generate for an installed model; otherwise say why not (no model, or not installed)."""
        if choice is not None and choice.installed:
            reason = ""
        elif choice is None:
            reason = "No model for this mode"
        else:
            reason = f"{choice.spec} is not installed"
        self.button.setEnabled(not reason)
        self.button.setToolTip("Generate (Ctrl+Enter)" if not reason else f"{reason}: install it with Models…")
        self.reason.setText(reason)
        self.reason.setToolTip(f"{reason}. Install model… downloads it or adds a local folder." if reason else "")
        self.reason.setVisible(bool(reason))
        self.install_button.setVisible(bool(reason))
        self.availability_changed.emit(not reason, reason)
