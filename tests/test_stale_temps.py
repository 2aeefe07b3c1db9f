"""Hidden temps left by a writer killed mid-write are swept by the next write into that folder and at start-up;
a live writer's temp and anything not named exactly like ours are never touched.

Writers are real child processes held at the documented write gate (LOA_TEST_WRITE_GATE, core/fileio.py) with
their temps on disk, then `kill -9`'d there or left running."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from core.fileio import write_bytes_atomic, write_text_atomic
from core.stale_temps import STALE_AFTER_SECONDS, TEMP_PATTERN, sweep_app_folders, sweep_folder, temp_path_for

REPO = Path(__file__).resolve().parents[1]


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def start_writer(target: Path, gate: Path, data: bytes = b"x" * 50_000) -> subprocess.Popen:
    """A real process writing `target` atomically that stops at the gate, temps written, nothing renamed."""
    gate.mkdir(exist_ok=True)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from core.fileio import write_bytes_atomic
        write_bytes_atomic({str(target)!r}, {data!r})
    """)
    child = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "LOA_TEST_WRITE_GATE": str(gate)})
    deadline = time.monotonic() + 60
    while not (gate / "before-commit.reached").exists():
        assert child.poll() is None and time.monotonic() < deadline, "the writer never reached the gate"
        time.sleep(0.01)
    return child


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_temp_left_by_a_kill_9_is_swept_by_the_next_write_into_that_folder(tmp_path):
    folder, gate = tmp_path / "out", tmp_path / "gate"
    folder.mkdir()
    writer = start_writer(folder / "take.wav", gate)
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    (left,) = hidden(folder)  # the temp, written whole, never renamed
    assert TEMP_PATTERN.match(left) and f"-{writer.pid}-" in left and left.endswith(".tmp.wav")
    assert not (folder / "take.wav").exists()

    write_text_atomic(folder / "notes.txt", "next write")
    assert hidden(folder) == [] and sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_a_live_writers_temp_is_never_removed_and_still_lands(tmp_path):
    folder, gate = tmp_path / "out", tmp_path / "gate"
    folder.mkdir()
    writer = start_writer(folder / "take.bin", gate, b"whole" * 1000)
    try:
        (live,) = hidden(folder)
        write_bytes_atomic(folder / "other.bin", b"another write into the same folder")
        assert sweep_folder(folder, force=True) == [] and sweep_app_folders([tmp_path]) == []
        assert hidden(folder) == [live]
    finally:
        (gate / "before-commit.release").touch()
        (gate / "mid-commit.release").touch()
        assert writer.wait(timeout=60) == 0
    assert (folder / "take.bin").read_bytes() == b"whole" * 1000 and hidden(folder) == []


def test_only_our_exact_names_are_removed(tmp_path):
    pid = dead_pid()
    ours = temp_path_for(tmp_path / "take.wav").name.replace(f"-{os.getpid()}-", f"-{pid}-")
    (tmp_path / ours).write_bytes(b"left by a dead writer")
    keep = [".x.tmp.wav", ".take.wav.tmp.wav", f".take.wav.{pid}.tmp.wav", f".take.wav.loa-{pid}.tmp.wav",
            f".take.wav.loa-zzzzzz-{pid}-0123abcd.tmp.wav", "take.wav.tmp", ours[1:], ours + ".bak"]
    for name in keep:
        (tmp_path / name).write_bytes(b"the user's")
    folder_named_like_ours = tmp_path / ours.replace("take", "kit")
    folder_named_like_ours.mkdir()
    link_named_like_ours = tmp_path / ours.replace("take", "loop")
    link_named_like_ours.symlink_to(tmp_path / ".x.tmp.wav")

    assert sweep_folder(tmp_path, force=True) == [tmp_path / ours]
    assert all((tmp_path / name).read_bytes() == b"the user's" for name in keep)
    assert folder_named_like_ours.is_dir() and link_named_like_ours.is_symlink()


def test_age_alone_decides_for_other_machines_and_old_names(tmp_path):
    """A temp from another host (a shared folder) or from before hosts were named: only a day's age proves its
    writer is gone; a recent one is kept."""
    names = {"other-host": ".take.wav.loa-abcdef-{}-0123abcd.tmp.wav", "legacy": ".take.wav.{}-0123abcd.tmp.wav"}
    old = time.time() - STALE_AFTER_SECONDS - 60
    for label, pattern in names.items():
        (tmp_path / pattern.format(1)).write_bytes(b"old")
        os.utime(tmp_path / pattern.format(1), (old, old))
        (tmp_path / pattern.format(2)).write_bytes(b"recent")
    if temp_path_for(tmp_path / "x").name.split(".loa-")[1].startswith("abcdef"):
        return  # this machine's own host tag: the case cannot be set up here
    removed = sweep_folder(tmp_path, force=True)
    assert sorted(p.name for p in removed) == sorted(pattern.format(1) for pattern in names.values())
    assert hidden(tmp_path) == sorted(pattern.format(2) for pattern in names.values())


def test_cli_start_up_sweeps_the_apps_own_folders(tmp_path):
    pid = dead_pid()
    data, config = Path(os.environ["LOA_DATA_DIR"]), Path(os.environ["LOA_CONFIG_DIR"])
    left = [data / "pads" / "kick.wav", data / "edits" / "s1" / "clip.wav", data / "audio" / "2026-11" / "a.wav",
            config / "user-presets.json"]
    for target in left:
        target.parent.mkdir(parents=True, exist_ok=True)
        name = temp_path_for(target).name.replace(f"-{os.getpid()}-", f"-{pid}-")
        (target.parent / name).write_bytes(b"half")
    (data / "pads" / ".x.tmp.wav").write_bytes(b"the user's")
    out = subprocess.run([sys.executable, "-m", "core.cli.main", "models", "list", "--json"], cwd=REPO,
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    assert all(hidden(target.parent) == [] for target in left[1:])
    assert hidden(data / "pads") == [".x.tmp.wav"]
