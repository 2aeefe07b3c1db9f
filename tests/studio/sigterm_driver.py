"""The real `loa-studio` entry (studio.app.main) driven like a user, to be ended by SIGTERM as a logout ends it.

    python sigterm_driver.py work MODEL OUT     # generate 2 takes, edit+save the first, edit the second (unsaved),
                                                # write OUT/work.json, print READY, run until a signal ends it
    python sigterm_driver.py start OUT          # the next start: write what it shows to OUT/start.json, then quit

The user folders come from LOA_DATA_DIR / LOA_CONFIG_DIR (the test's own).
"""

import json
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


def the_window():
    from studio.shell.main_window import MainWindow

    return next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))


def edit(window, start, end):
    ctl = window.editor.controller
    window.waveform.set_selection(start, end)
    window.editor.actions.by_key["edit.silence"].trigger()
    while ctl.busy:
        QApplication.processEvents()


def work(model, out):
    window = the_window()
    panel = window.generation_panel
    panel.set_model(model)
    panel.prompt_edit.setText("rain on a tin roof")
    panel.seconds_spin.setValue(1.0)
    panel.steps_spin.setValue(2)
    panel.candidates_spin.setValue(2)

    def finished(job, result):
        cards = window.candidates.cards
        ctl = window.editor.controller
        edit(window, 0.1, 0.3)  # the best take opened in the editor: edit it and save the edit as a version
        saved = ctl.save_version()
        window.candidates.select(1)  # the second take: an edit left unsaved
        edit(window, 0.2, 0.4)
        (out / "work.json").write_text(json.dumps({
            "seeds": [c.entry.seed for c in cards], "saved_version": saved,
            "unsaved_origin": ctl.origin.library_id, "unsaved": ctl.has_unsaved_edits}))
        print("READY", flush=True)

    window.jobs.job_finished.connect(finished)
    panel.generate_button.click()


def start(out):
    window = the_window()
    boxes = [w.objectName() for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    (out / "start.json").write_text(json.dumps({
        "seeds": [c.entry.seed for c in window.candidates.cards], "boxes": boxes,
        "message": window.statusBar().currentMessage() + " " + window.message_area.text()}))
    for w in QApplication.topLevelWidgets():
        if isinstance(w, QMessageBox) and w.isVisible():
            w.reject()
    QTimer.singleShot(0, window.end_session)
    QTimer.singleShot(0, QApplication.quit)


def main():
    from studio.app import main as studio_main
    from studio.app import make_application

    make_application(sys.argv[:1])
    if sys.argv[1] == "work":
        QTimer.singleShot(200, lambda: work(sys.argv[2], Path(sys.argv[3])))
    else:
        QTimer.singleShot(1500, lambda: start(Path(sys.argv[2])))
    return studio_main(sys.argv[:1])


if __name__ == "__main__":
    sys.exit(main())
