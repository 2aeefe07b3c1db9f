"""Entry point of `loa-studio`."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    from core import APP_NAME, __version__

    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    window = QMainWindow()
    window.setWindowTitle(f"{APP_NAME} {__version__}")
    window.setCentralWidget(QLabel("LOA Studio"))
    window.resize(1100, 720)
    window.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
