"""A tiny window that accepts file drops, like a DAW track: writes what it received to a JSON file.

    python drop_target.py OUT.json X Y W H
The window is titled "LOA drop target"; each drop overwrites OUT.json with {"urls": [...], "action": "..."}.
"""

import json
import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel


class DropTarget(QLabel):
    def __init__(self, out_path):
        super().__init__("Drop audio here")
        self.out_path = out_path
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background: #2d5a27; color: white; font-size: 16px;")
        self.setAcceptDrops(True)
        self.setWindowTitle("LOA drop target")

    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        urls = [url.toString() for url in event.mimeData().urls()]
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        with open(self.out_path, "w") as out:
            json.dump({"urls": urls, "action": event.dropAction().name}, out)
        self.setText("Received")


if __name__ == "__main__":
    app = QApplication(sys.argv[:1])
    target = DropTarget(sys.argv[1])
    x, y, w, h = (int(v) for v in sys.argv[2:6])
    target.setGeometry(x, y, w, h)
    target.show()
    sys.exit(app.exec())
