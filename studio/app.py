"""Entry point of `loa-studio`: open the main window."""

from __future__ import annotations

import sys


def make_application(argv: list[str] | None = None):
    """The QApplication, with the model libraries' logging and load bars quieted (core.quiet): the window shows
    progress itself, and a terminal full of library chatter only hides real problems."""
    from PySide6.QtWidgets import QApplication

    from core import APP_NAME
    from core.quiet import quiet_libraries

    quiet_libraries()
    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("loa-studio")
    collect_garbage_on_the_gui_thread(app)
    return app


GC_INTERVAL_MS = 500


def collect_garbage_on_the_gui_thread(app) -> None:
    """The window's side of core.gc_policy: automatic collection off, and a GUI-thread timer collects what the
    interpreter's thresholds say is due (a job thread that collected could destroy dead widgets' Qt objects off
    the GUI thread: a segfault seen in CI while a job thread loaded a model)."""
    from PySide6.QtCore import QTimer

    from core import gc_policy

    if getattr(app, "_gui_thread_gc", None) is None:
        timer = QTimer(app)
        timer.setInterval(GC_INTERVAL_MS)
        timer.timeout.connect(gc_policy.collect_due)
        timer.start()
        app._gui_thread_gc = timer
    gc_policy.take_over()  # (again, should anything have turned it back on)


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtWidgets import QMessageBox

    from core import APP_NAME
    from core.errors import LoaError

    app = make_application(argv)

    from studio.export.dragout import purge_dragout

    purge_dragout(older_than_days=7)  # drag-out files a DAW may still reference are kept a week
    from core.stale_temps import sweep_app_folders_in_background

    sweep_app_folders_in_background()  # hidden temps a killed writer left in the app's own folders

    from studio.shell.main_window import MainWindow

    try:
        window = MainWindow()
    except LoaError as exc:  # e.g. a damaged library database: say so instead of a traceback
        QMessageBox.critical(None, APP_NAME, str(exc))
        return 1
    window.show()
    from studio.shell import quit_on_signal

    quit_on_signal.install(window)  # SIGTERM (a logout) saves and ends as Quit does, exit 0
    from core import gc_policy

    gc_policy.freeze()  # start-up's long-lived objects (Qt wrappers, modules) stay out of later passes
    from core.editing.kweighted_lanes import prepare_in_background

    prepare_in_background()  # the measuring kernels: about 1 s to load, a few s to compile the very first time
    code = app.exec()
    # pyqtgraph views still alive when the interpreter exits can abort the process: tear down first.
    window.close()
    window.deleteLater()
    app.processEvents()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
