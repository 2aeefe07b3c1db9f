"""EditSession on disk: reopening, restore after a real kill -9, interrupted writes, full disks, pruning."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import editing_harness
from core.audio.clip import Clip
from core.editing import EditSession, Selection, list_sessions, recoverable_sessions
from core.errors import InputError

HERE = Path(__file__).resolve().parent


def clip(frames=48000, channels=2, seed=0) -> Clip:
    rng = np.random.default_rng(seed)
    return Clip((rng.standard_normal((frames, channels)) * 0.1).astype(np.float32), 48000)


def test_reopened_session_has_clip_position_and_history(tmp_path):
    session = EditSession.create(clip(), name="song", source={"library_id": 3}, root=tmp_path)
    for name, sel, params in [("cut", Selection(1000, 5000), {}), ("paste", Selection.cursor(20000), {}),
                              ("gain", Selection(), {"db": 3.0}), ("fade_in", Selection(0, 4000), {"curve": "s-curve"})]:
        session.apply(name, sel, **params)
    session.undo()
    expected, folder = session.clip.samples.copy(), session.folder
    session.close()
    assert [i.closed for i in list_sessions(tmp_path)] == [True] and recoverable_sessions(tmp_path) == []
    again = EditSession.open(folder)
    assert np.array_equal(again.clip.samples, expected) and again.position == 3 and again.can_redo
    assert again.name == "song" and again.source == {"library_id": 3}
    assert again.operations()[0]["op"] == "cut" and len(again.operations()) == 3
    again.redo()
    again.discard()
    assert not folder.exists()


def test_opening_a_folder_that_is_not_a_session_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="not an edit session"):
        EditSession.open(tmp_path)


@pytest.mark.parametrize("writes", ["", "background"])
def test_kill_9_while_editing_loses_at_most_the_edit_in_flight(tmp_path, writes):
    """A real process applies edits and is killed with SIGKILL; the restored session equals the edits it
    reported done (or one more), with its undo history intact. With background writes the kill may land
    after an edit was recorded but before its blocks were written: opening recomputes them."""
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    child = subprocess.Popen([sys.executable, str(HERE / "editing_harness.py"), str(tmp_path)] + [writes] * bool(writes),
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        folder = Path(child.stdout.readline().strip())
        done = 0
        while done < 25:
            line = child.stdout.readline()
            assert line.startswith("done"), f"harness stopped: {line!r}"
            done = int(line.split()[1])
        time.sleep(0.05)  # land the kill somewhere inside a later edit
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        for line in child.stdout:  # edits reported between our read and the kill
            done = int(line.split()[1])
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert [i.folder for i in recoverable_sessions(tmp_path)] == [folder]

    # The same script, applied purely, gives every version the harness went through.
    expected = [editing_harness.start_clip()]
    replay = EditSession.create(expected[0], root=tmp_path / "replay")
    for i in range(done + 1):
        name, sel, params = editing_harness.edit(i, replay.clip.frames)
        replay.apply(name, sel, **params)
        expected.append(replay.clip)

    restored = EditSession.open(folder)
    assert restored.position in (done, done + 1)  # the edit in flight may or may not have committed
    assert np.array_equal(restored.clip.samples, expected[restored.position].samples)
    for position in range(restored.position - 1, -1, -1):
        assert np.array_equal(restored.undo().clip.samples, expected[position].samples)
    leftovers = set(p.name for p in (folder / "blocks").glob("*.tmp"))
    assert not leftovers


def test_blocks_an_interrupted_edit_left_behind_are_removed_on_open(tmp_path):
    session = EditSession.create(clip(), root=tmp_path)
    session.apply("gain", Selection(0, 100), db=1.0)
    expected = session.clip.samples.copy()
    stray = session.blocks.write(np.ones((10, 2), np.float32))  # written, never recorded: a kill in between
    (session.blocks.folder / "half-written.f32.tmp").write_bytes(b"\0" * 12)
    kept = session.blocks.existing() - {stray}
    session._open_lock.close()  # the process "dies" here
    reopened = EditSession.open(session.folder)
    assert reopened.blocks.existing() == kept and not list(reopened.blocks.folder.glob("*.tmp"))
    assert np.array_equal(reopened.clip.samples, expected)


def test_a_session_open_somewhere_is_neither_offered_nor_opened_twice(tmp_path):
    session = EditSession.create(clip(), root=tmp_path)
    assert recoverable_sessions(tmp_path) == []  # this process holds it open
    with pytest.raises(InputError, match="open in another"):
        EditSession.open(session.folder)
    session.abandon()  # what a process that dies without closing leaves behind
    assert [i.folder for i in recoverable_sessions(tmp_path)] == [session.folder]


def test_a_full_disk_refuses_the_edit_and_changes_nothing(tmp_path, monkeypatch):
    import errno

    from core.editing.blocks import BlockStore

    session = EditSession.create(clip(), root=tmp_path)
    session.apply("gain", Selection(0, 100), db=1.0)
    before, blocks = session.clip.samples.copy(), session.blocks.existing()
    real_write = BlockStore.write

    def full(self, samples):
        real_write(self, samples[:1])  # a block lands, then the disk fills
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(BlockStore, "write", full)
    with pytest.raises(InputError, match="No space left on device.*nothing was changed"):
        session.apply("fade_in", Selection(0, 1000))
    assert np.array_equal(session.clip.samples, before) and session.position == 1
    assert session.blocks.existing() == blocks
    monkeypatch.setattr(BlockStore, "write", real_write)
    session.apply("fade_in", Selection(0, 1000))  # space freed: editing goes on
    session.close()
    reopened = EditSession.open(session.folder)
    assert reopened.position == 2 and np.array_equal(reopened.undo().clip.samples, before)


def test_a_missing_block_is_a_clear_error_and_keeps_the_current_clip(tmp_path):
    session = EditSession.create(clip(), root=tmp_path)
    session.apply("gain", Selection(0, 100), db=1.0)
    current = session.clip.samples.copy()
    original_block = json.loads(session._version(0)["refs"])[0][0]
    session.blocks.path(original_block).unlink()
    with pytest.raises(InputError, match="cannot be read"):
        session.undo()
    assert np.array_equal(session.clip.samples, current) and session.position == 1


def test_pruning_removes_only_old_closed_saved_sessions(tmp_path):
    from core.editing.recovery import prune_closed_sessions

    saved = EditSession.create(clip(), root=tmp_path)
    saved.apply("reverse", Selection(0, 10))
    saved.mark_saved(1)
    saved.close()
    unsaved = EditSession.create(clip(), root=tmp_path)
    unsaved.apply("reverse", Selection(0, 10))
    unsaved.close()
    still_open = EditSession.create(clip(), root=tmp_path)
    assert prune_closed_sessions(tmp_path, older_than_days=1) == 0  # nothing is old yet
    freed = prune_closed_sessions(tmp_path, older_than_days=-1)  # everything counts as old
    assert freed > clip().samples.nbytes
    assert not saved.folder.exists() and unsaved.folder.exists() and still_open.folder.exists()


def test_an_unwritable_history_folder_is_one_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the edits folder should be")
    with pytest.raises(InputError, match="Cannot keep an edit history"):
        EditSession.create(clip(), root=blocker)


def test_an_edit_killed_before_its_background_write_is_recomputed_on_open(tmp_path, monkeypatch):
    from core.editing import writer

    monkeypatch.setattr(writer, "BACKGROUND_MIN_BYTES", 0)  # as a long clip's blocks are
    session = EditSession.create(clip(), root=tmp_path)
    session.apply("fade_out", Selection(), curve="exponential")
    session.apply("gain", Selection(0, 500), db=-2.0)
    monkeypatch.setattr(writer.BackgroundWriter, "_run", lambda self, plan: None)  # killed before it wrote
    expected = session.apply("resample", Selection(10, 20), rate=44100).clip.samples.copy()
    history = [s.operation for s in session.history()]
    session.abandon()
    reopened = EditSession.open(session.folder)
    assert "computed again" in reopened.repair_note and reopened.position == 3
    assert np.array_equal(reopened.clip.samples, expected) and reopened.clip.sample_rate == 44100
    assert [s.operation for s in reopened.history()] == history
    assert reopened.undo().clip.sample_rate == 48000


def test_an_interrupted_edit_that_cannot_be_recomputed_is_dropped_alone(tmp_path):
    session = EditSession.create(clip(), root=tmp_path)
    session.apply("copy", Selection(0, 4000))
    session.apply("gain", Selection(), db=-1.0)
    before = session.clip.samples.copy()
    session.apply("paste", Selection.cursor(100))  # needs the clipboard: no replay
    pasted_block = json.loads(session._version(2)["refs"])[1][0]
    session.abandon()
    session.blocks.path(pasted_block).unlink()  # what a power cut before the block reached the disk leaves
    reopened = EditSession.open(session.folder)
    assert "dropped" in reopened.repair_note and reopened.position == 1 and not reopened.can_redo
    assert np.array_equal(reopened.clip.samples, before)


def test_every_edit_is_fsynced_blocks_folder_and_log(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    session = EditSession.create(clip(), root=tmp_path)
    session.apply("fade_in", Selection(0, 3000))
    session.disk_bytes()  # waits for the background job
    new_block = json.loads(session._version(1)["refs"])[0][0]
    assert any(p.endswith(new_block + ".f32") for p in synced)
    assert str(session.blocks.folder) in synced and any(p.endswith("session.sqlite3-wal") for p in synced)
    session.close()


def test_pruning_by_size_cap_removes_least_recently_edited_saved_sessions_only(tmp_path):
    import sqlite3
    from datetime import datetime, timedelta, timezone

    from core.editing.recovery import TRASH_FOLDER, prune_closed_sessions

    def aged(session, days, save=True, close=True):
        session.apply("reverse", Selection(0, 10))
        if save:
            session.mark_saved(1)
        folder = session.folder
        (session.close if close else session.abandon)()
        stamp = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
        db = sqlite3.connect(str(folder / "session.sqlite3"))
        with db:
            db.execute("UPDATE versions SET created = ?", (stamp,))
        db.close()
        return folder

    oldest = aged(EditSession.create(clip(), root=tmp_path), 10)
    newer = aged(EditSession.create(clip(), root=tmp_path), 5)
    unsaved = aged(EditSession.create(clip(), root=tmp_path), 20, save=False)
    crashed = aged(EditSession.create(clip(), root=tmp_path), 40, close=False)  # offered for restore
    held = EditSession.open(aged(EditSession.create(clip(), root=tmp_path), 50))  # open right now
    list_sessions(tmp_path)  # (reading them lets sqlite fold the closed ones' logs away: sizes settle)
    sizes = {f: sum(p.stat().st_size for p in f.rglob("*") if p.is_file())
             for f in (oldest, newer, unsaved, crashed, held.folder)}
    total = sum(sizes.values())

    assert prune_closed_sessions(tmp_path, older_than_days=30, max_total_bytes=total) == 0  # under the cap
    cap = total - sizes[oldest] + sizes[newer] // 2  # one session over: the least recently edited goes
    assert prune_closed_sessions(tmp_path, older_than_days=30, max_total_bytes=cap) == sizes[oldest]
    assert not oldest.exists() and newer.exists()
    prune_closed_sessions(tmp_path, older_than_days=30, max_total_bytes=0)  # over any cap: all it may take
    assert not newer.exists()
    assert unsaved.exists() and crashed.exists() and held.folder.exists()
    assert not (tmp_path / TRASH_FOLDER).exists() or not any((tmp_path / TRASH_FOLDER).iterdir())
    assert np.array_equal(held.undo().clip.samples, clip().samples)  # the open one still works
    held.close()
