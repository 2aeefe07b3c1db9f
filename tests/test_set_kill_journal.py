"""A multi-file set written with --overwrite survives `kill -9` at every rename: a real `loa generate` process
kills itself just before its K-th rename (LOA_TEST_KILL_AT_RENAME, core/fileio.py's test seam), then the next
real write into the folder finds the complete old set under every name; a run to the end leaves the complete
new set (issue 18, item 5)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
NAMES = ["set-1.wav", "set-1.wav.json", "set-2.wav", "set-2.wav.json"]


def loa(*argv, env=None):
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "core.cli.main", *map(str, argv)], env=env, capture_output=True,
                          text=True, timeout=300)


def generate(model, folder, seed, env=None):
    return loa("generate", "rain on a tin roof", "--candidates", "2", "-o", folder / "set.wav", "--overwrite",
               "--model", model, "--device", "cpu", "--seconds", "0.5", "--steps", "1", "--seed", seed, env=env)


def snapshot(folder):
    return {name: (folder / name).read_bytes() for name in NAMES}


@pytest.mark.slow
def test_a_set_killed_at_every_rename_is_whole_after_the_next_write(tiny_model_dir, tmp_path):
    folder = tmp_path / "takes"
    folder.mkdir()
    sf.write(str(tmp_path / "tone.wav"), np.zeros(1600, dtype=np.float32), 16_000)
    result = generate(tiny_model_dir, folder, 1)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(folder)) == NAMES
    old = snapshot(folder)
    for k in range(1, len(NAMES) + 1):
        result = generate(tiny_model_dir, folder, 50, env={"LOA_TEST_KILL_AT_RENAME": str(k)})
        assert result.returncode == -9, result.stderr  # killed by SIGKILL before rename k
        left = os.listdir(folder)
        assert any(name.endswith(".journal") for name in left), left  # the set is marked incomplete
        if k > 1:
            assert snapshot(folder) != old  # really half-landed: some names already hold the new take
        # The next write into the folder (here `loa edit`, no model) puts the old set back first.
        edited = loa("edit", tmp_path / "tone.wav", "-o", folder / "other.wav", "--gain", "-1", "--overwrite")
        assert edited.returncode == 0, edited.stderr
        assert snapshot(folder) == old, f"kill before rename {k}"
        assert sorted(os.listdir(folder)) == sorted(NAMES + ["other.wav"])  # no journal, backup or temp left
        os.unlink(folder / "other.wav")
    result = generate(tiny_model_dir, folder, 50)
    assert result.returncode == 0, result.stderr
    new = snapshot(folder)
    assert all(new[name] != old[name] for name in NAMES)
    assert sorted(json.loads(new[name])["seed"] for name in NAMES if name.endswith(".json")) == [50, 51]
    assert sorted(os.listdir(folder)) == NAMES
