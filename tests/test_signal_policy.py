"""core.signals is the process's one signal policy: real `loa` processes, real signals. A hang at exit stays
interruptible, SIGHUP ends a command as SIGTERM does (one line, exit 143), and nothing else in core/ swaps
handlers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]

# What the `loa` console script runs, plus a non-daemon thread that never ends: the interpreter's shutdown then
# waits for it forever (as it would for a library's stuck worker thread).
HANGS_AT_EXIT = """
import sys, threading
import core.cli.entry as entry
threading.Thread(target=threading.Event().wait, name="stuck worker").start()
sys.exit(entry.main(sys.argv[1:]))
"""


def tone(path: Path, seconds: float, rate: int = 44_100) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    samples = np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 331 * t)], axis=1) * 0.2
    sf.write(str(path), samples.astype(np.float32), rate)
    return path


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def test_a_hang_at_exit_ends_on_ctrl_c(tmp_path):
    tone(tmp_path / "in.wav", 1)
    loa = subprocess.Popen([sys.executable, "-c", HANGS_AT_EXIT, "edit", "in.wav", "-o", "out.wav", "--gain", "-1"],
                           cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (tmp_path / "out.wav").exists():
        assert loa.poll() is None, loa.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(1.0)
    assert loa.poll() is None  # the command is done; the interpreter's shutdown waits for the stuck thread
    loa.send_signal(signal.SIGINT)
    try:
        out, err = loa.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        loa.kill()
        loa.communicate()
        pytest.fail("Ctrl+C did not end a process hanging at exit")
    assert loa.returncode == 130, err
    assert err == "loa: stopped while exiting; the command had already finished.\n", err
    assert sf.info(str(tmp_path / "out.wav")).frames == 44_100


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_or_sighup_while_a_file_is_encoded_is_one_line_and_exit_143(tmp_path, signum):
    source = tone(tmp_path / "long.flac", 300)
    (tmp_path / "out.flac").write_bytes(b"the user's earlier file")
    loa = subprocess.Popen([sys.executable, "-m", "core.cli.entry", "edit", str(source), "-o", "out.flac", "--gain",
                            "-1", "--overwrite"], cwd=tmp_path, env=env(), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 1_000_000 for p in tmp_path.glob(".out.flac*")):  # the encode is under way
        assert loa.poll() is None, loa.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    loa.send_signal(signum)
    out, err = loa.communicate(timeout=60)
    assert loa.returncode == 143, err
    assert err == "loa: cancelled; no file was written or changed.\n" and out == ""
    assert (tmp_path / "out.flac").read_bytes() == b"the user's earlier file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.flac", "out.flac"]  # no temp left


def test_only_the_policy_module_installs_signal_handlers_in_core():
    swapping = [str(path.relative_to(REPO)) for path in sorted((REPO / "core").rglob("*.py"))
                if re.search(r"\bsignal\.(signal|set_wakeup_fd)\(", path.read_text(encoding="utf-8"))]
    assert swapping == ["core/signals.py"]
