"""SIGTERM (what a logout, a shutdown or `kill` sends) and SIGHUP (a closed terminal) end the window as Quit does,
without asking: the shown cards, fields and layout are saved, the clip being edited is closed (a session whose edits
are saved is then clean, one with unsaved edits is named at the next start and marked in the library, never offered
as a crash to restore), and the process exits 0.

Qt's event loop runs in C++, so a Python signal handler runs only when the interpreter next gets control. The
standard pattern: `signal.set_wakeup_fd` makes the C-level handler write the signal's number into a socket, and a
QSocketNotifier on the other end wakes the event loop, which then ends the window.

    quit_on_signal.install(window)   # once, after the window is built
"""

from __future__ import annotations

import logging
import signal
import socket

from PySide6.QtCore import QObject, QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class _Watcher(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self._read, self._write = socket.socketpair()
        for end in (self._read, self._write):
            end.setblocking(False)
        self.notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self.notifier.activated.connect(self._woken)
        self.destroyed.connect(lambda *_: self._uninstall())
        signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        for signum in ENDING_SIGNALS:
            signal.signal(signum, lambda *_: None)  # the wake-up byte does the work; no default termination

    def _woken(self, *_) -> None:
        try:
            numbers = set(self._read.recv(64))
        except OSError:
            return
        if numbers & set(int(s) for s in ENDING_SIGNALS):
            log.info("ending on a signal: saving the session as Quit does")
            for widget in QApplication.topLevelWidgets():  # an open dialog's own event loop ends first
                if widget.isVisible() and widget.isModal():
                    widget.close()
            QTimer.singleShot(0, self, self._end)

    def _end(self) -> None:
        self.window.end_session()
        QApplication.exit(0)

    def _uninstall(self) -> None:
        try:
            signal.set_wakeup_fd(-1)
        except ValueError:  # not the main thread (interpreter shutdown)
            pass
        for end in (self._read, self._write):
            end.close()


def install(window) -> QObject:
    """Route SIGTERM/SIGHUP to `window.end_session()` and exit 0. Main thread only (Python's rule for handlers)."""
    return _Watcher(window)
