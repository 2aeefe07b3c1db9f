"""core.commit_journal: a real child process writing a set (core.fileio.atomic_outputs) is killed with SIGKILL
just before each of its renames (LOA_TEST_KILL_AT_RENAME); the next sweep of the folder leaves every name with
the complete old set (replacing) or no new name at all (a new set), and no journal, backup or temp behind."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.stale_temps import sweep_folder

REPO = Path(__file__).resolve().parents[1]
NAMES = ["take.wav", "take.wav.json", "take-2.wav"]


def write_set(folder, overwrite, kill_at):
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from pathlib import Path
        from core.fileio import atomic_outputs
        folder = Path({str(folder)!r})
        with atomic_outputs([folder / n for n in {NAMES!r}], overwrite={overwrite!r}) as temps:
            for tmp in temps:
                tmp.write_text("new " + tmp.name)
    """)
    env = {**os.environ, "LOA_TEST_KILL_AT_RENAME": str(kill_at)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("kill_at", [1, 2, 3])
def test_a_replaced_set_killed_at_each_rename_is_the_old_set_after_the_sweep(tmp_path, kill_at):
    for name in NAMES:
        (tmp_path / name).write_text(f"old {name}")
    result = write_set(tmp_path, True, kill_at)
    assert result.returncode == -9, result.stderr
    sweep_folder(tmp_path, force=True)
    assert sorted(os.listdir(tmp_path)) == sorted(NAMES)
    assert all((tmp_path / name).read_text() == f"old {name}" for name in NAMES)


@pytest.mark.parametrize("kill_at", [2, 3])
def test_a_new_set_killed_half_way_leaves_no_name_after_the_sweep(tmp_path, kill_at):
    result = write_set(tmp_path, False, kill_at)
    assert result.returncode == -9, result.stderr
    assert any(os.path.exists(tmp_path / name) for name in NAMES)  # half of it had landed
    sweep_folder(tmp_path, force=True)
    assert os.listdir(tmp_path) == []


def test_a_set_that_lands_leaves_no_journal(tmp_path):
    result = write_set(tmp_path, True, 99)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path)) == sorted(NAMES)
    assert all((tmp_path / name).read_text().startswith("new ") for name in NAMES)


def test_the_check_before_a_rerun_repairs_first(tmp_path):
    """After a kill half-way through a new set, the same command's up-front check finds the names free again
    (instead of refusing the half-landed new names as existing files)."""
    from core.output_checks import check_output_paths

    result = write_set(tmp_path, False, 2)
    assert result.returncode == -9, result.stderr
    check_output_paths([tmp_path / name for name in NAMES], overwrite=False)
    assert os.listdir(tmp_path) == []
