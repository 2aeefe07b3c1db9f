"""Run the real main window (studio.shell.main_window.MainWindow) and publish where its widgets are on screen.

    python studio_harness.py GEOMETRY.json X Y W H [PANEL.json [PADS_X PADS_Y PADS_W PADS_H]]
Every 200 ms GEOMETRY.json is rewritten with the global rectangles [x, y, w, h] of the widgets the display tier
drives (promptEdit, generateButton, the first candidateCard, the library's first row, the waveform plot and its
drag button), plus the waveform selection in seconds, so xdotool can aim at them and the test can check them.
PANEL.json optionally presets the generation panel's numbers (seconds, steps, candidates) to keep the run short;
the prompt is typed and Generate is clicked by xdotool, as a user would. With a rectangle after it, the Pads dock
floats there (as a user drags its tab out), so cards and library rows can be dragged onto pads; "pads" then lists
the first pads' rectangles, labels and files.
"""

import json
import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDockWidget, QWidget

NAMES = ("promptEdit", "generateButton", "candidateCard", "libraryList", "waveformPlot", "selectionDragButton")


def main():
    from studio.app import make_application  # as the real app: library chatter silenced

    app = make_application(sys.argv[:1])
    from studio.shell.main_window import MainWindow

    out_path = sys.argv[1]
    x, y, w, h = (int(v) for v in sys.argv[2:6])
    window = MainWindow()
    if len(sys.argv) > 6:
        panel = window.generation_panel
        values = json.loads(open(sys.argv[6]).read())
        panel.seconds_spin.setValue(values.get("seconds", panel.seconds_spin.value()))
        panel.steps_spin.setValue(values.get("steps", panel.steps_spin.value()))
        panel.candidates_spin.setValue(values.get("candidates", panel.candidates_spin.value()))
    window.setGeometry(x, y, w, h)
    window.show()
    pads_dock = None
    if len(sys.argv) > 10:
        pads_dock = window.findChild(QDockWidget, "padsDock")
        pads_dock.setFloating(True)
        pads_dock.setGeometry(*(int(v) for v in sys.argv[7:11]))
        pads_dock.show()

    def publish():
        found = {}
        for name in NAMES:
            widget = window.findChild(QWidget, name)
            if widget is not None and widget.isVisible():
                corner = widget.mapToGlobal(widget.rect().topLeft())
                found[name] = [corner.x(), corner.y(), widget.width(), widget.height()]
        library = window.findChild(QWidget, "libraryList")
        if library is not None and library.count():
            rect = library.visualItemRect(library.item(0))
            corner = library.viewport().mapToGlobal(rect.topLeft())
            found["libraryRow0"] = [corner.x(), corner.y(), rect.width(), rect.height()]
        view = window.candidates.viewport()
        corner = view.mapToGlobal(view.rect().topLeft())
        found["candidatesViewport"] = [corner.x(), corner.y(), view.width(), view.height()]
        found["windowSize"] = [window.width(), window.height()]
        found["keepButtons"] = []
        for card in window.candidates.cards:
            button = card.keep_button
            corner = button.mapToGlobal(button.rect().topLeft())
            found["keepButtons"].append([corner.x(), corner.y(), button.width(), button.height()]
                                        if button.isVisible() else None)
        selection = window.waveform.selection() if getattr(window, "waveform", None) is not None else None
        found["waveformSelection"] = list(selection) if selection else None
        editor = getattr(window, "editor", None)
        if editor is not None and editor.controller.origin is not None:
            found["editorClip"] = editor.controller.origin.prompt
        found["libraryCount"] = window.library.count()
        if pads_dock is not None:
            found["pads"] = []
            for pad, button in enumerate(window.midi.pads.buttons[:4]):
                corner = button.mapToGlobal(button.rect().topLeft())
                slot = window.midi.controller.pads.pad(pad)
                found["pads"].append({"rect": [corner.x(), corner.y(), button.width(), button.height()],
                                      "label": slot.label, "file": slot.source.get("file")})
        found["pid"] = os.getpid()
        temp = out_path + ".tmp"
        with open(temp, "w") as out:
            json.dump(found, out)
        os.replace(temp, out_path)

    timer = QTimer()
    timer.timeout.connect(publish)
    timer.start(200)
    code = app.exec()
    window.close()
    window.deleteLater()
    app.processEvents()
    sys.exit(code)


if __name__ == "__main__":
    main()
