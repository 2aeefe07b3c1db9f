"""The Qt binding itself must survive a long session: PySide6 6.12.0 drops one reference too many on each
Signal.emit's result, so on Python 3.11 (no immortal True/False/None) a window that emits a few thousand signals
aborts with 'bool_dealloc' (seen in a 150-job session). pyproject.toml excludes that release; this test keeps it out."""

from __future__ import annotations

import subprocess
import sys

EMIT_MANY = """
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class Sender(QObject):
    sent = Signal(object)
sender = Sender()
sender.sent.connect(lambda value: None)
for i in range(5000):
    sender.sent.emit(i)
print("ok")
"""


def test_five_thousand_signal_emits_do_not_abort_the_interpreter():
    done = subprocess.run([sys.executable, "-c", EMIT_MANY], capture_output=True, text=True, timeout=120,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-500:]
