"""core.fileio: atomic writes, sets that land together, no silent overwrite, one-line OS errors.

Full disks are real: a 64 KB tmpfs when this process may mount (root), and RLIMIT_FSIZE in a child process
(EFBIG, any user) otherwise."""

import contextlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from small_disks import mounted_tmpfs

from core.fileio import atomic_output, atomic_outputs, write_bytes_atomic, write_text_atomic
from core.output_checks import OutputError, OutputExists, check_output_paths

REPO = Path(__file__).resolve().parents[1]


def hidden_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_atomic_output_replaces_whole_and_keeps_the_suffix(tmp_path):
    target = tmp_path / "take.wav"
    target.write_bytes(b"old")
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".wav" and tmp.name.startswith(".")
        tmp.write_bytes(b"new contents")
        assert target.read_bytes() == b"old"  # nothing visible until the block ends
    assert target.read_bytes() == b"new contents"
    assert hidden_leftovers(tmp_path) == []


def test_an_error_inside_the_block_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "take.wav"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("encoder failed")
    assert target.read_bytes() == b"old" and hidden_leftovers(tmp_path) == []


def test_without_overwrite_an_existing_file_is_refused_and_kept(tmp_path):
    target = tmp_path / "take.wav"
    target.write_bytes(b"mine")
    with pytest.raises(OutputExists, match="already exists; nothing was changed"):
        write_bytes_atomic(target, b"theirs", overwrite=False)
    assert target.read_bytes() == b"mine" and hidden_leftovers(tmp_path) == []


def test_a_set_lands_together_or_not_at_all(tmp_path):
    audio, sidecar, other = tmp_path / "a.wav", tmp_path / "a.wav.json", tmp_path / "b.wav"
    audio.write_bytes(b"old audio")
    other.write_bytes(b"someone else's")
    # The third target exists: without overwrite the whole set is refused, the first two are rolled back.
    with pytest.raises(OutputExists):
        with atomic_outputs([tmp_path / "new.wav", tmp_path / "new.wav.json", other], overwrite=False) as temps:
            for t in temps:
                t.write_bytes(b"x")
    assert not (tmp_path / "new.wav").exists() and not (tmp_path / "new.wav.json").exists()
    assert other.read_bytes() == b"someone else's"
    # With overwrite, a rename that fails (target is a folder) restores the file already replaced.
    (tmp_path / "dir.wav").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        with atomic_outputs([audio, tmp_path / "dir.wav"]) as temps:
            for t in temps:
                t.write_bytes(b"new")
    assert audio.read_bytes() == b"old audio" and not sidecar.exists()
    assert hidden_leftovers(tmp_path) == []
    with atomic_outputs([audio, sidecar]) as (ta, ts):
        ta.write_bytes(b"new audio")
        ts.write_text("{}")
    assert audio.read_bytes() == b"new audio" and sidecar.read_text() == "{}"
    assert hidden_leftovers(tmp_path) == []


def test_text_helper_and_missing_folders(tmp_path):
    path = write_text_atomic(tmp_path / "presets.json", "[1]")
    assert path.read_text() == "[1]"
    with pytest.raises(OutputError, match="folder of .* does not exist; nothing was changed"):
        write_text_atomic(tmp_path / "missing" / "x.json", "[]")


def test_check_output_paths_names_each_problem(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "taken.wav").write_text("x")
    (tmp_path / "side.wav.json").mkdir()
    cases = {
        tmp_path: "is a folder, not a file name",
        tmp_path / "file" / "x.wav": "is a file, not a folder",
        tmp_path / ("a" * 300 + ".wav"): "file name too long",
        Path("/proc/loa-test.wav"): "cannot create files in the folder",
        tmp_path / "taken.wav": "already exists",
        tmp_path / "side.wav.json": "is a folder",
    }
    for path, words in cases.items():
        with pytest.raises(OutputError, match=words):
            check_output_paths([path])
    check_output_paths([tmp_path / "taken.wav"], overwrite=True)
    assert check_output_paths([tmp_path / "new" / "deep" / "x.wav"]) == [tmp_path / "new" / "deep" / "x.wav"]
    assert not (tmp_path / "new").exists()  # checking creates nothing
    with pytest.raises(OutputError, match="refusing to write over the input"):
        check_output_paths([tmp_path / "sub" / ".." / "taken.wav"], overwrite=True, inputs=[tmp_path / "taken.wav"])
    assert hidden_leftovers(tmp_path) == []


def test_a_read_only_folder_is_refused_up_front(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:  # root ignores permission bits: a read-only mount is the real thing
        read_only = mounted_tmpfs(folder, read_only=True)
    else:
        folder.chmod(0o555)
        read_only = contextlib.nullcontext()
    try:
        with read_only:
            with pytest.raises(OutputError, match="read-only file system|no permission"):
                check_output_paths([folder / "x.wav"])
            with pytest.raises(OutputError, match="nothing was changed"):
                write_bytes_atomic(folder / "x.wav", b"data")
    finally:
        folder.chmod(0o755)


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 64 KB file system (tmpfs), when this process may mount one."""
    with mounted_tmpfs(tmp_path / "disk") as folder:
        yield folder


def test_a_full_disk_keeps_the_old_file_and_says_so(tiny_disk):
    target = tiny_disk / "take.wav"
    target.write_bytes(b"old take")
    with pytest.raises(OutputError) as caught:
        write_bytes_atomic(target, b"\0" * 200_000)
    assert str(caught.value) == f"no space left on device writing {target}; nothing was changed."
    assert target.read_bytes() == b"old take"
    assert hidden_leftovers(tiny_disk) == []


def test_a_file_size_limit_keeps_the_old_file_in_a_real_child_process(tmp_path):
    target = tmp_path / "take.json"
    target.write_text("old")
    code = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
        from core.fileio import write_text_atomic
        from core.output_checks import OutputError
        try:
            write_text_atomic({str(target)!r}, "x" * 5000)
        except OutputError as exc:
            print(exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == f"file too large for this file system writing {target}; nothing was changed."
    assert target.read_text() == "old" and hidden_leftovers(tmp_path) == []


def test_two_processes_racing_for_one_new_name_one_wins_whole(tmp_path):
    """Both children write their temps and wait at the documented gate; released together, exactly one lands."""
    target, gate = tmp_path / "take.bin", tmp_path / "gate"
    gate.mkdir()
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from core.fileio import write_bytes_atomic
        from core.output_checks import OutputExists
        try:
            write_bytes_atomic({str(target)!r}, sys.argv[1].encode() * 100_000, overwrite=False)
            print("won")
        except OutputExists as exc:
            print("refused:", exc)
    """)
    env = {**os.environ, "LOA_TEST_WRITE_GATE": str(gate)}
    children = [subprocess.Popen([sys.executable, "-c", code, letter], env=env, stdout=subprocess.PIPE, text=True)
                for letter in "AB"]
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (gate / "before-commit.reached").exists():
        time.sleep(0.01)
    (gate / "before-commit.release").touch()
    (gate / "mid-commit.release").touch()
    outputs = sorted(c.communicate(timeout=60)[0].strip() for c in children)
    assert outputs[1] == "won" and outputs[0].startswith("refused:") and "already exists" in outputs[0]
    data = target.read_bytes()
    assert data in (b"A" * 100_000, b"B" * 100_000)
    assert hidden_leftovers(tmp_path) == []


def test_a_full_disk_when_the_sets_journal_is_written_changes_nothing(tiny_disk):
    """The temps fit, then the disk fills up: the journal cannot be written, so no name is touched."""
    a, b = tiny_disk / "a.wav", tiny_disk / "a.wav.json"
    a.write_bytes(b"old take")
    b.write_text("old sidecar")
    with pytest.raises(OutputError) as caught:
        with atomic_outputs([a, b]) as (tmp_a, tmp_b):
            tmp_a.write_bytes(b"new take")
            tmp_b.write_text("new sidecar")
            with open(tiny_disk / "filler", "wb", buffering=0) as filler:  # another program takes the last space
                with contextlib.suppress(OSError):
                    while True:
                        filler.write(b"\0" * 512)
    assert "no space left on device" in str(caught.value) and str(caught.value).endswith("nothing was changed.")
    assert a.read_bytes() == b"old take" and b.read_text() == "old sidecar"
    assert hidden_leftovers(tiny_disk) == []
