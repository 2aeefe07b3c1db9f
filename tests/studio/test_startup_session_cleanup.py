"""Starting the real main window prunes old edit histories (core.editing.prune_in_background: closed, saved,
last edited over 30 days ago) from the data folder, and keeps every history that still matters: unsaved edits,
a crashed session (offered for restore instead), one open right now, and recent ones."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from core.audio.clip import Clip
from core.editing import EditSession, Selection
from core.editing.recovery import sessions_root


def small_clip() -> Clip:
    rng = np.random.default_rng(1)
    return Clip((rng.standard_normal((4800, 2)) * 0.1).astype(np.float32), 48000)


def session_aged(days: float, *, name: str, edit=True, save=True, close=True):
    """A session in the user's edits folder whose versions were all made `days` ago."""
    session = EditSession.create(small_clip(), name=name, root=sessions_root())
    if edit:
        session.apply("reverse", Selection(0, 10))
    if save:
        session.mark_saved(1)
    folder = session.folder
    (session.close if close else session.abandon)()  # abandon: what a crash leaves
    stamp = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
    db = sqlite3.connect(str(folder / "session.sqlite3"))
    with db:
        db.execute("UPDATE versions SET created = ?", (stamp,))
    db.close()
    return folder


def dismiss_restore_offers(offered: list[str]) -> QTimer:
    """Answer "Not now" to the restore question the window asks at start-up about a crashed session."""
    def answer():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == "restoreEditsBox":
            offered.append(box.text())
            next(b for b in box.buttons() if b.text() == "Not now").click()

    timer = QTimer()
    timer.timeout.connect(answer)
    timer.start(20)
    return timer


def test_starting_the_window_removes_old_saved_histories_and_keeps_the_rest(make_window, qtbot):
    old_saved = session_aged(40, name="old saved")
    old_unedited = session_aged(45, name="old unedited", edit=False, save=False)
    old_unsaved = session_aged(40, name="old unsaved", save=False)
    crashed = session_aged(40, name="crashed take", close=False)
    recent_saved = session_aged(2, name="recent saved")
    held = EditSession.open(session_aged(50, name="open now"))  # open in this process while the window starts
    assert all(f.exists() for f in (old_saved, old_unedited, old_unsaved, crashed, recent_saved, held.folder))

    offered: list[str] = []
    timer = dismiss_restore_offers(offered)
    try:
        make_window()
        qtbot.waitUntil(lambda: not old_saved.exists() and not old_unedited.exists(), timeout=15_000)
        for thread in threading.enumerate():
            if thread.name == "edit-session-prune":
                thread.join(timeout=15)  # the whole pass is over: what is left now stays
        qtbot.waitUntil(lambda: bool(offered), timeout=5_000)
    finally:
        timer.stop()

    assert old_unsaved.exists() and crashed.exists() and recent_saved.exists() and held.folder.exists()
    assert len(offered) == 1 and "crashed take" in offered[0]  # the crash is offered, not pruned
    assert sorted(p.name for p in sessions_root().iterdir() if not p.name.startswith(".")) == sorted(
        f.name for f in (old_unsaved, crashed, recent_saved, held.folder))
    assert np.array_equal(held.undo().clip.samples, small_clip().samples)  # the open one still works
    held.close()
