"""Ctrl+C in the first seconds of `loa` (while torch and diffusers import, while the model loads) prints one line,
never a traceback, and exits 130. Real processes, real SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def interrupt_after_start(argv: list[str], delay: float, cwd: Path, signum: int = signal.SIGINT) -> tuple[int, list[str]]:
    """Start `python -m core.cli.entry ARGV` (what the `loa` script runs), wait until the project's code runs (seen through -X importtime,
    whose lines are dropped), then `delay` seconds more, and send `signum` (SIGINT). Returns the exit code and stderr lines."""
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    proc = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "core.cli.entry", *argv], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    started = threading.Event()

    def drain():  # keep reading: torch's import alone writes more than a pipe holds
        for line in proc.stderr:
            if line.startswith("import time:"):
                if line.rstrip().endswith("core.errors"):  # imported by main.py, after entry.py's handler
                    started.set()
            else:
                lines.append(line.rstrip("\n"))
        started.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    assert started.wait(60)
    time.sleep(delay)
    proc.send_signal(signum)
    code = proc.wait(timeout=120)
    reader.join(10)
    return code, lines


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3, 1.0, 2.5])
def test_ctrl_c_early_is_one_line_and_exit_130(tiny_model_dir, tmp_path, delay):
    code, lines = interrupt_after_start(["generate", "rain", "--model", str(tiny_model_dir), "--seconds", "0.5",
                                         "--steps", "200", "-o", str(tmp_path / "out.wav")], delay, tmp_path)
    if code == 0:
        pytest.skip("the run finished before the signal arrived")  # a very fast machine; nothing to check
    assert code == 130, lines
    assert len(lines) == 1 and "cancelled" in lines[0], lines
    assert not any("Traceback" in line or "KeyboardInterrupt" in line for line in lines)
    assert not (tmp_path / "out.wav").exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("delay", [0.0, 1.0])
def test_sigterm_or_sighup_early_is_one_line_and_exit_143(tiny_model_dir, tmp_path, delay, signum):
    """One policy (core.signals): SIGTERM and SIGHUP take Ctrl+C's path with exit 143, from the first moment."""
    code, lines = interrupt_after_start(["generate", "rain", "--model", str(tiny_model_dir), "--seconds", "0.5",
                                         "--steps", "200", "-o", str(tmp_path / "out.wav")], delay, tmp_path, signum)
    if code == 0:
        pytest.skip("the run finished before the signal arrived")
    assert code == 143, lines
    assert len(lines) == 1 and "cancelled" in lines[0], lines
    assert not (tmp_path / "out.wav").exists()
