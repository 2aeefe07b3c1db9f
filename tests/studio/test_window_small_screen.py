"""A first start on a small screen: the window takes the screen it has (less the frame) instead of a fixed
1400x860 that hid its right edge and bottom rows on a 1024x640 display. Run in a process of its own, whose
offscreen screen is 1024x640 (the test session's is 1920x1080, tests/offscreen_screen.json)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

FIRST_START = """
import json
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication
from studio.shell.main_window import MainWindow
from studio.shell.settings import StudioSettings

app = QApplication([])
window = MainWindow(settings=StudioSettings())
window.show()
app.processEvents()
inside = QRect(QPoint(0, 0), window.size())

def seen(widget):
    return inside.contains(QRect(widget.mapTo(window, QPoint(0, 0)), widget.size()))

print(json.dumps({"size": [window.width(), window.height()],
                  "generate": seen(window.generation_panel.generate_button),
                  "drag_out": seen(window.selection_drag)}))
window.close()
"""


@pytest.mark.parametrize(("screen", "expected"), [((1024, 640), (1016, 600)), ((1920, 1080), (1400, 860))])
def test_the_first_window_fits_the_screen_it_starts_on(tmp_path, screen, expected):
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "s", "x": 0, "y": 0, "width": screen[0], "height": screen[1],
                                               "logicalDpiX": 96, "logicalDpiY": 96, "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", PYTHONPATH=str(REPO),
               LOA_CONFIG_DIR=str(tmp_path / "config"), LOA_DATA_DIR=str(tmp_path / "data"),
               JACK_DEFAULT_SERVER="loa-no-such-server")
    done = subprocess.run([sys.executable, "-c", FIRST_START], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert tuple(shown["size"]) == expected
    assert shown["generate"] and shown["drag_out"]  # the window's own corners hold its buttons
