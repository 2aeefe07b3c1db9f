"""EditSession on disk: reopening, restore after a real kill -9, interrupted writes, full disks, pruning."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import editing_harness
import numpy as np
import pytest

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
    while the last edit's blocks are being written: its row is not committed yet, so that edit is absent."""
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
    # the edit in flight may or may not have committed; written behind, the last edit reported done may still
    # have been in flight (the next one waits for it), never an earlier one
    assert restored.position in ((done - 1, done, done + 1) if writes else (done, done + 1))
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

    def full(self, samples, block=None, durable=False):
        real_write(self, samples[:1], block)  # a block lands, then the disk fills
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


def test_a_kill_while_an_edits_blocks_are_written_leaves_the_version_before_it(tmp_path, monkeypatch):
    """Blocks first, then the row: a session folder as a kill leaves it in the middle of an edit's block writes
    opens at the previous edit (nothing to recompute, no version without its audio); the clip in memory
    had moved on at once."""
    import shutil
    import threading

    from core.editing import writer
    from core.editing.blocks import BlockStore

    monkeypatch.setattr(writer, "BACKGROUND_MIN_BYTES", 0)  # as a long clip's blocks are
    session = EditSession.create(clip(), root=tmp_path)
    session.apply("fade_out", Selection(), curve="exponential")
    session.apply("gain", Selection(0, 500), db=-2.0)
    session.flush()
    before, first = session.clip.samples.copy(), session.version_clip(1).samples
    writing, release = threading.Event(), threading.Event()
    real_write = BlockStore.write

    def slow(self, samples, block=None, durable=False):
        writing.set()
        release.wait(10)
        return real_write(self, samples, block, durable)

    monkeypatch.setattr(BlockStore, "write", slow)
    expected = session.apply("resample", Selection(10, 20), rate=44100).clip
    assert session.position == 3 and session.clip.sample_rate == 44100  # in memory at once
    assert writing.wait(10)
    killed = tmp_path / "killed"
    shutil.copytree(session.folder, killed)  # the folder as a kill -9 now would leave it
    release.set()
    session.close()

    reopened = EditSession.open(killed)
    assert reopened.position == 2 and not reopened.can_redo and reopened.repair_note is None
    assert np.array_equal(reopened.clip.samples, before)
    assert np.array_equal(reopened.undo().clip.samples, first)
    finished = EditSession.open(session.folder)  # and the session that was let finish has the edit
    assert finished.position == 3 and np.array_equal(finished.clip.samples, expected.samples)


OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE versions (seq INTEGER PRIMARY KEY, refs TEXT NOT NULL, frames INTEGER NOT NULL,
    channels INTEGER NOT NULL, sample_rate INTEGER NOT NULL, operation TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    sel_start INTEGER NOT NULL, sel_end INTEGER NOT NULL, before_start INTEGER NOT NULL,
    before_end INTEGER NOT NULL, created TEXT NOT NULL);
CREATE TABLE replay (seq INTEGER PRIMARY KEY, call TEXT NOT NULL);
"""


def old_session(folder: Path, versions: list[Clip], missing_last: bool) -> None:
    """A session folder as LOA Studio wrote it before the schema version (rows committed before large blocks):
    one whole block per version; with `missing_last`, the newest version's block never reached the disk."""
    import sqlite3

    from core.editing.blocks import BlockStore

    store = BlockStore(folder / "blocks")
    db = sqlite3.connect(str(folder / "session.sqlite3"))
    db.executescript(OLD_SCHEMA)
    with db:
        for key, value in {"name": "old", "source": "{}", "created": "2026-01-01T00:00:00+00:00",
                           "position": str(len(versions) - 1), "saved_position": str(len(versions) - 1),
                           "closed": "0", "pid": "1"}.items():
            db.execute("INSERT INTO meta VALUES (?, ?)", (key, value))
        for seq, version in enumerate(versions):
            block = store.write(version.samples)
            db.execute("INSERT INTO versions VALUES (?,?,?,?,?,?,'',0,0,0,0,'2026-01-01T00:00:00+00:00')",
                       (seq, json.dumps([[block, 0, version.frames]]), version.frames, version.channels,
                        version.sample_rate, json.dumps({"op": "open" if seq == 0 else "gain", "db": 1.0})))
            db.execute("INSERT INTO replay VALUES (?, ?)", (seq, "{}"))
            if missing_last and seq == len(versions) - 1:
                store.path(block).unlink()
    db.close()


@pytest.mark.parametrize("missing_last", [False, True])
def test_a_session_from_before_the_schema_version_opens_and_is_migrated(tmp_path, missing_last):
    import sqlite3

    versions = [clip(seed=s) for s in range(3)]
    folder = tmp_path / "old"
    folder.mkdir()
    old_session(folder, versions, missing_last)
    session = EditSession.open(folder)
    kept = 1 if missing_last else 2
    assert session.position == kept and np.array_equal(session.clip.samples, versions[kept].samples)
    assert ("dropped" in session.repair_note) if missing_last else session.repair_note is None
    assert session.has_unsaved_edits == missing_last  # the saved version was the one dropped
    assert np.array_equal(session.undo().clip.samples, versions[kept - 1].samples)
    session.apply("gain", Selection(0, 100), db=2.0)  # edits go on in the new order
    session.close()
    db = sqlite3.connect(str(folder / "session.sqlite3"))
    assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'replay'").fetchone() is None
    db.close()
    assert EditSession.open(folder).position == kept


def test_a_session_from_a_newer_version_is_refused_clearly(tmp_path):
    import sqlite3

    session = EditSession.create(clip(), root=tmp_path)
    session.close()
    db = sqlite3.connect(str(session.folder / "session.sqlite3"))
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(InputError, match="newer LOA Studio"):
        EditSession.open(session.folder)


def test_every_edit_writes_its_blocks_durably_before_its_version_row(tmp_path, monkeypatch):
    """Audacity's order: the new block file and the folder naming it are fsynced before the row that refers to
    them is committed, and the commit itself is synchronous=FULL (fsynced by sqlite)."""
    import sqlite3

    synced = []
    real_fsync = os.fsync

    def spy(fd):
        probe = sqlite3.connect(str(session.folder / "session.sqlite3"))  # what a kill now would leave
        rows = probe.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
        probe.close()
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), rows))
        real_fsync(fd)

    session = EditSession.create(clip(), root=tmp_path)
    assert session._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    monkeypatch.setattr(os, "fsync", spy)
    session.apply("fade_in", Selection(0, 3000))
    session.flush()
    new_block = json.loads(session._version(1)["refs"])[0][0]
    block_syncs = [rows for path, rows in synced if path.endswith(new_block + ".f32.tmp")
                   or path.endswith(new_block + ".f32")]
    folder_syncs = [rows for path, rows in synced if path == str(session.blocks.folder)]
    assert block_syncs and folder_syncs
    assert all(rows == 1 for rows in block_syncs + folder_syncs)  # only version 0 committed at that time
    assert session.position == 1 and len(session.history()) == 2
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
    import gc

    gc.collect()  # the abandoned session's objects go, and with them its database handle (as when a process dies)

    def measured():
        list_sessions(tmp_path)  # (reading them lets sqlite fold the closed ones' logs away: sizes settle)
        return {f: sum(p.stat().st_size for p in f.rglob("*") if p.is_file())
                for f in (oldest, newer, unsaved, crashed, held.folder)}

    sizes, previous = measured(), None
    while sizes != previous:  # read until the listing itself changes nothing more on disk
        sizes, previous = measured(), sizes
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
