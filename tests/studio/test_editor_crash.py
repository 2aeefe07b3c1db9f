"""Nothing lost: a real process edits a clip in the real window, is killed with SIGKILL, and a new process restores
the clip and its whole undo history exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def run_harness(args, **kwargs):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, str(HERE / "editor_crash_harness.py"), *args], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_kill_9_during_editing_loses_nothing_and_undo_history_survives(tmp_path):
    rate = 22_050
    t = np.arange(2 * rate) / rate
    audio = tmp_path / "take.wav"
    sf.write(str(audio), np.stack([0.4 * np.sin(2 * np.pi * 220 * t), 0.2 * np.sin(2 * np.pi * 550 * t)], 1),
             rate, subtype="FLOAT")
    out = tmp_path / "out"
    out.mkdir()

    editing = run_harness(["edit", str(audio), str(out)])
    try:
        line = editing.stdout.readline()
        assert line.strip() == "READY", editing.stderr.read() if editing.poll() is not None else line
        os.kill(editing.pid, signal.SIGKILL)  # no chance to close anything
        editing.wait(30)
    finally:
        if editing.poll() is None:
            editing.kill()
            editing.wait(30)
    assert editing.returncode == -signal.SIGKILL
    before = json.loads((out / "edit.json").read_text())
    assert before["position"] == 4

    restoring = run_harness(["restore", str(out)])
    try:
        _, err = restoring.communicate(timeout=120)
    finally:
        if restoring.poll() is None:
            restoring.kill()
            restoring.wait(30)
    assert restoring.returncode == 0, err
    after = json.loads((out / "restore.json").read_text())
    assert after["restored"], err
    assert after["position"] == before["position"] and after["history"] == before["history"]
    np.testing.assert_array_equal(np.load(out / "restored.npy"), np.load(out / "step-4.npy"))
    assert after["undone"] == 4
    for version in range(4):  # every undo step gives back exactly the array that version had
        np.testing.assert_array_equal(np.load(out / f"undone-{version}.npy"), np.load(out / f"step-{version}.npy"))
