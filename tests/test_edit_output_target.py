"""`loa edit -o` names a file: standard output (`-`), a device such as /dev/null and a folder are refused with
exit 2 before anything is read or written, as in `generate` (issue 18, item 9)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(str(path), np.zeros(800, dtype=np.float32), 8000)
    return path


def loa(cwd, *argv):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "core.cli.main", *map(str, argv)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("target, expected", [("-", "standard output (-) is not supported"),
                                              ("/dev/null", "/dev/null is not a regular file"),
                                              ("sub", "-o sub is a folder")])
def test_edit_refuses_stdout_devices_and_folders_as_output(tmp_path, clip, target, expected):
    (tmp_path / "sub").mkdir()
    before = set(os.listdir(tmp_path))
    had_null_wav = os.path.exists("/dev/null.wav")
    result = loa(tmp_path, "edit", clip, "-o", target, "--gain", "-1", "--overwrite")
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert set(os.listdir(tmp_path)) == before  # no `-.wav`
    assert os.listdir(tmp_path / "sub") == []  # no `sub.wav` beside or inside
    assert not os.path.exists(tmp_path / "sub.wav")
    assert had_null_wav or not os.path.exists("/dev/null.wav")
