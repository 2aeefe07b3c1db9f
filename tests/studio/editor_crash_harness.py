"""A real LOA Studio window that edits a clip and waits to be killed, or restores what a killed one left.

    python editor_crash_harness.py edit AUDIO OUT_DIR     # import AUDIO, make edits, save each step, print READY, wait
    python editor_crash_harness.py restore OUT_DIR        # restore the session, save it, undo step by step, exit

The user folders come from LOA_DATA_DIR / LOA_CONFIG_DIR (the test's own). Steps are saved as OUT_DIR/step-N.npy
(N = version), the history labels as OUT_DIR/edit.json or restore.json.
"""

import json
import sys
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QApplication


def shown(window):
    return window.editor.controller.clip().samples


def main():
    app = QApplication(sys.argv[:1])
    from studio.shell.main_window import MainWindow

    window = MainWindow()
    window.show()
    editor, ctl = window.editor, window.editor.controller
    mode = sys.argv[1]
    if mode == "edit":
        audio, out = sys.argv[2], Path(sys.argv[3])
        app.processEvents()
        editor.import_paths([audio])
        np.save(out / "step-0.npy", shown(window))
        edits = [((0.5, 1.0), "edit.delete", None), ((0.1, 0.3), "edit.reverse", None),
                 ((0.0, 0.4), "edit.gain", {"db": -6.0}), ((0.2, 0.25), "edit.silence", None)]
        from studio.editor.operation_table import OPERATIONS

        for (start, end), key, params in edits:
            window.waveform.set_selection(start, end)
            editor.run_operation(OPERATIONS[key], params)
            while ctl.busy:
                app.processEvents()
            np.save(out / f"step-{ctl.session.position}.npy", shown(window))
        (out / "edit.json").write_text(json.dumps({"position": ctl.session.position,
                                                   "history": [s.label for s in ctl.session.history()]}))
        print("READY", flush=True)
        app.exec()  # until killed
    else:
        out = Path(sys.argv[2])
        session = editor.offer_restore(ask=False)  # before events: the window's own offer would ask
        app.processEvents()
        result = {"restored": session is not None}
        if session is not None:
            result |= {"position": session.position, "history": [s.label for s in session.history()]}
            np.save(out / "restored.npy", shown(window))
            undone = 0
            while ctl.can_undo:
                ctl.undo()
                undone += 1
                np.save(out / f"undone-{session.position}.npy", shown(window))
            result["undone"] = undone
            ctl.discard_edits()
        (out / "restore.json").write_text(json.dumps(result))
        window.close()
        window.deleteLater()
        app.processEvents()


if __name__ == "__main__":
    main()
