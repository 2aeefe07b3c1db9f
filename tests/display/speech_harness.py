"""Speech mode of the real main window on the display: a reference voice and a two-line script rendered on a tiny
speech model, shown at each size the display tier asks for.

    python speech_harness.py OUT_DIR MODEL_DIR REFERENCE_WAV WxH [WxH ...]
For each size it resizes the window, writes OUT_DIR/ready-WxH.json (the window's size and, per widget the speech
tools put on screen, whether any of it is visible inside the window) and waits for OUT_DIR/done-WxH (the test's
screenshot is taken) before the next size; then it quits.
"""

import json
import os
import sys
from pathlib import Path

from PySide6.QtCore import QRect, QTimer
from PySide6.QtWidgets import QApplication, QWidget

SCRIPT = "@voice host: a calm male narrator in a quiet studio\n[host] Welcome to episode 12.\n@pause 1\nSee you soon.\n"


def visible_in(window, widget: QWidget) -> bool:
    """Some of the widget is painted inside the window (not hidden, not scrolled or squeezed away)."""
    if widget is None or not widget.isVisible() or widget.visibleRegion().isEmpty():
        return False
    corner = widget.mapTo(window, widget.rect().topLeft())
    return QRect(corner, widget.size()).intersects(window.rect())


def main():
    out, model, reference = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    sizes = [tuple(int(v) for v in size.split("x")) for size in sys.argv[4:]]
    app = QApplication(sys.argv[:1])
    from studio.shell.main_window import MainWindow
    from studio.shell.settings import StudioSettings

    settings = StudioSettings()
    settings.local_models = [model]
    window = MainWindow(settings=settings)
    window.resize(*sizes[0])
    window.show()
    panel, tools = window.generation_panel, window.speech_tools
    panel.set_mode("speech")
    panel.set_model(model)
    panel.prompt_edit.setText("a calm female narrator, close microphone")
    panel.steps_spin.setValue(2)
    panel.candidates_spin.setValue(1)
    tools.reference.set_reference_file(reference)
    tools.reference.text_edit.setText("Front center.")
    tools.script.editor.setPlainText(SCRIPT)
    box = tools.script

    def report(width, height):
        app.processEvents()
        named = {"referenceFile": tools.reference.file_button, "referenceText": tools.reference.text_edit,
                 "scriptEditor": box.editor, "renderAll": box.render_button, "export": box.export_button,
                 "firstReroll": box.table.cellWidget(0, 3), "firstCard": (window.candidates.cards or [None])[0]}
        data = {"size": [window.width(), window.height()], "asked": [width, height],
                "lines": [s.status for s in tools.session.states],
                "visible": {name: visible_in(window, widget) for name, widget in named.items()}}
        temp = out / f"ready-{width}x{height}.json.tmp"
        temp.write_text(json.dumps(data))
        os.replace(temp, out / f"ready-{width}x{height}.json")

    pending = list(sizes)

    def next_size():
        if not pending:
            app.quit()
            return
        width, height = pending[0]
        window.resize(width, height)
        QTimer.singleShot(800, lambda: (report(width, height), wait_done()))

    def wait_done():
        width, height = pending[0]
        if (out / f"done-{width}x{height}").exists():
            pending.pop(0)
            next_size()
        else:
            QTimer.singleShot(200, wait_done)

    tools.session.all_done.connect(lambda: QTimer.singleShot(300, next_size))
    QTimer.singleShot(500, box.render_all)
    app.exec()
    window.close()


if __name__ == "__main__":
    main()
