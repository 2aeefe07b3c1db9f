"""Issue 18's last exit-1 classes, as real `loa` processes: Ctrl+C while a file is encoded, a long .ogg, a closed
or full stdout. Each ends as one line (or none) with an honest exit code, never a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]


def loa_command(args) -> list[str]:
    return [sys.executable, "-m", "core.cli.entry", *map(str, args)]


def loa_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def run_loa(args, cwd, **kwargs) -> subprocess.CompletedProcess:
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run(loa_command(args), cwd=cwd, env=loa_env(), text=True, timeout=240, **kwargs)


def tone(path: Path, seconds: float, rate: int = 44_100, subtype: str = "PCM_16") -> Path:
    t = np.arange(int(seconds * rate)) / rate
    samples = np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 331 * t)], axis=1) * 0.2
    sf.write(str(path), samples.astype(np.float32), rate, subtype=subtype)
    return path


def test_ctrl_c_while_a_file_is_encoded_is_one_line_and_exit_130(tmp_path):
    source = tone(tmp_path / "long.flac", 300)
    (tmp_path / "out.flac").write_bytes(b"the user's earlier file")
    loa = subprocess.Popen(loa_command(["edit", source, "-o", "out.flac", "--gain", "-1", "--overwrite"]),
                           cwd=tmp_path, env=loa_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 1_000_000 for p in tmp_path.glob(".out.flac*")):  # the encode is under way
        assert loa.poll() is None, loa.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    loa.send_signal(signal.SIGINT)
    out, err = loa.communicate(timeout=60)
    assert loa.returncode == 130, err
    assert err == "loa: cancelled; no file was written or changed.\n" and out == ""
    assert (tmp_path / "out.flac").read_bytes() == b"the user's earlier file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.flac", "out.flac"]  # no temp left


def test_a_long_ogg_is_encoded_without_crashing(tmp_path):
    """libvorbis encodes one write call's samples on its stack: 100 s of stereo in one call was SIGSEGV."""
    source = tone(tmp_path / "long.wav", 100)
    done = run_loa(["edit", source, "-o", "out.ogg", "--gain", "-1"], tmp_path)
    assert done.returncode == 0 and done.stderr == "", done
    assert sf.info(str(tmp_path / "out.ogg")).frames == 100 * 44_100


def test_a_closed_stdout_is_not_an_error(tmp_path):
    source = tone(tmp_path / "in.wav", 1)
    done = subprocess.run(["bash", "-c", " ".join(loa_command(["edit", source, "-o", "out.wav", "--gain", "-1"]))
                           + " >&-"], cwd=tmp_path, env=loa_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0 and done.stderr == "", done
    assert sf.info(str(tmp_path / "out.wav")).frames == 44_100


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_stdout_on_a_full_device_is_one_line_after_the_files_are_written(tmp_path):
    source = tone(tmp_path / "in.wav", 1)
    with open("/dev/full", "w") as full:
        done = run_loa(["edit", source, "-o", "out.wav", "--gain", "-1"], tmp_path, stdout=full,
                       stderr=subprocess.PIPE)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert "standard output" in done.stderr and "no space left" in done.stderr and "out.wav" in done.stderr
    assert sf.info(str(tmp_path / "out.wav")).frames == 44_100  # the work itself was done
