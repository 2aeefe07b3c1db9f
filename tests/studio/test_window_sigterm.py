"""A logout ends the window with SIGTERM: a real `loa-studio` process (studio.app.main) ends as Quit ends it —
exit 0, the shown cards kept, the saved edit clean, the unsaved one named at the next start, nothing offered as a
crash to restore (issue 23)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM") or sys.platform == "win32",
                                reason="POSIX signals")


def run_driver(args):
    # No JACK client: this is about ending, not MIDI (libjack once failed to start its thread on a loaded machine)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO), JACK_DEFAULT_SERVER="loa-no-such-server")
    return subprocess.Popen([sys.executable, str(HERE / "sigterm_driver.py"), *map(str, args)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_sigterm_saves_the_session_like_quit_exits_0_and_the_next_start_restores_nothing_falsely(
        tmp_path, tiny_model_dir):
    from core.editing import recoverable_sessions, unsaved_sessions
    from studio.shell.settings import StudioSettings

    settings = StudioSettings()
    settings.local_models = [str(tiny_model_dir.resolve())]
    settings.sync()
    out = tmp_path / "out"
    out.mkdir()

    working = run_driver(["work", tiny_model_dir.resolve(), out])
    try:
        line = working.stdout.readline()
        assert line.strip() == "READY", working.stderr.read() if working.poll() is not None else line
        working.send_signal(signal.SIGTERM)  # what a logout sends
        code = working.wait(120)
    finally:
        if working.poll() is None:
            working.kill()
    stderr = working.stderr.read()
    assert code == 0, f"exit {code}: {stderr[-2000:]}"
    work = json.loads((out / "work.json").read_text())
    assert work["saved_version"] is not None and work["unsaved"]

    assert recoverable_sessions() == [], "a cleanly ended window left a 'crashed' session to restore"
    unsaved = unsaved_sessions()
    assert [info.source.get("library_id") for info in unsaved] == [work["unsaved_origin"]]

    starting = run_driver(["start", out])
    try:
        code = starting.wait(120)
    finally:
        if starting.poll() is None:
            starting.kill()
    assert code == 0, starting.stderr.read()[-2000:]
    start = json.loads((out / "start.json").read_text())
    assert start["seeds"] == work["seeds"], "the shown cards did not come back"
    assert start["boxes"] == [], f"the next start asked: {start['boxes']}"
    assert "unsaved edits" in start["message"], start["message"]
