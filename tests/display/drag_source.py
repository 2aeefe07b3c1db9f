"""A tiny window that drags one file out, like a file manager: press on it and drag onto another window.

    python drag_source.py FILE X Y W H
"""

import sys

from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QApplication, QLabel


class DragSource(QLabel):
    def __init__(self, path):
        super().__init__("Drag me")
        self.path = path
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background: #27405a; color: white; font-size: 16px;")
        self.setWindowTitle("LOA drag source")

    def mouseMoveEvent(self, event):
        if event.buttons() & Qt.MouseButton.LeftButton:
            data = QMimeData()
            data.setUrls([QUrl.fromLocalFile(self.path)])
            drag = QDrag(self)
            drag.setMimeData(data)
            drag.exec(Qt.DropAction.CopyAction)


if __name__ == "__main__":
    app = QApplication(sys.argv[:1])
    source = DragSource(sys.argv[1])
    x, y, w, h = (int(v) for v in sys.argv[2:6])
    source.setGeometry(x, y, w, h)
    source.show()
    sys.exit(app.exec())
