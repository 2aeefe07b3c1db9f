"""One question before something that cannot be undone (or loses what the user chose to keep)."""

from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm(parent: Optional[QWidget], title: str, text: str, action: str) -> bool:
    """Ask with a button named after the action; Cancel is the default, so Enter never destroys anything."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Cancel, parent)
    box.setObjectName("confirmDialog")
    go = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    go.setObjectName("confirmAction")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is go
