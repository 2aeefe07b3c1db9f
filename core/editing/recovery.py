"""Finding edit sessions on disk: the ones to offer for restore after a crash, and which are open elsewhere.

A process holding a session open keeps an exclusive flock on `<folder>/open.lock`; the OS releases it when
the process ends, however it ends (kill -9 included), so "not closed and not locked" means "crashed".
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from core.paths import data_dir

DB_NAME = "session.sqlite3"
LOCK_NAME = "open.lock"
SESSIONS_FOLDER = "edits"


def sessions_root() -> Path:
    return data_dir() / SESSIONS_FOLDER


@dataclass
class SessionInfo:
    """A session folder found on disk (for the window's restore offer)."""

    folder: Path
    name: str
    source: dict = field(default_factory=dict)
    position: int = 0
    steps: int = 0
    updated: str = ""
    closed: bool = False
    pid: Optional[int] = None  # the process that last had it open
    saved_position: Optional[int] = -1  # the step last saved to the library as a version (-1: none)

    @property
    def has_unsaved_edits(self) -> bool:
        return self.position != 0 and self.position != self.saved_position


def list_sessions(root: Optional[Path] = None) -> list[SessionInfo]:
    """Every session folder under `root` (default: the user's edits folder), newest first."""
    root = Path(root) if root is not None else sessions_root()
    infos = []
    for folder in sorted(root.glob("*/" + DB_NAME), reverse=True):
        try:
            db = sqlite3.connect(str(folder))
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            steps, updated = db.execute("SELECT MAX(seq), MAX(created) FROM versions").fetchone()
            db.close()
        except sqlite3.DatabaseError:
            continue  # not a session (or unreadable): never offered, never touched
        if steps is None:
            continue  # killed while being created: it never held a clip
        infos.append(SessionInfo(folder.parent, meta.get("name", ""), json.loads(meta.get("source") or "{}"),
                                 int(meta.get("position", 0)), int(steps or 0), updated or "",
                                 meta.get("closed") == "1", _int_or_none(meta.get("pid")),
                                 _int_or_none(meta.get("saved_position", "-1"))))
    return infos


def unsaved_sessions(root: Optional[Path] = None) -> list[SessionInfo]:
    """Closed sessions of library items whose edits are not saved as a version, one per item (the newest edited
    session of an item is the one showing it again reopens), newest first: the clips quitting should name and a
    start should offer."""
    seen, out = set(), []
    for info in list_sessions(root):
        library_id = info.source.get("library_id")
        if library_id is None or info.position == 0 or library_id in seen:
            continue
        seen.add(library_id)
        if info.closed and info.has_unsaved_edits:
            out.append(info)
    return out


def recoverable_sessions(root: Optional[Path] = None) -> list[SessionInfo]:
    """Sessions that were not closed (the app crashed or was killed) and that no running process holds open
    (this one included): the ones a start of the window should offer to restore."""
    out = []
    for info in list_sessions(root):
        if info.closed:
            continue
        probe = hold_lock(info.folder)
        if probe is None:
            continue  # open in a running process
        probe.close()
        out.append(info)
    return out


def hold_lock(folder: Path):
    """An open file holding an exclusive lock on the session's lock file, or None when another open file
    (any process, this one included) holds it. Without fcntl (Windows) the recorded pid decides."""
    handle = open(folder / LOCK_NAME, "a+")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        pid = _int_or_none(_read_meta(folder, "pid"))
        if pid is not None and pid != os.getpid() and _pid_alive(pid):
            handle.close()
            return None
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _read_meta(folder: Path, key: str) -> Optional[str]:
    try:
        db = sqlite3.connect(str(folder / DB_NAME))
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        db.close()
        return row[0] if row else None
    except sqlite3.DatabaseError:
        return None


def _int_or_none(value) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True


KEEP_DAYS = 30.0  # closed, saved sessions older than this are removed at start-up
SIZE_CAP_BYTES = 4 << 30  # and while all sessions together take more than this, the least recently edited
TRASH_FOLDER = ".trash"  # a session being deleted is first moved here, so no half-deleted one is ever listed


def _folder_bytes(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except OSError:
            pass
    return total


def prune_closed_sessions(root: Optional[Path] = None, older_than_days: float = KEEP_DAYS,
                          max_total_bytes: Optional[int] = None) -> int:
    """Delete sessions that were closed cleanly and whose current version was saved to the library (or never
    edited): those last edited more than `older_than_days` ago, then, while all sessions together take more
    than `max_total_bytes`, the least recently edited of the rest. Return the bytes freed. Sessions that were
    not closed (a crash: offered for restore), that are open in any process, or that hold unsaved edits are
    never touched, whatever the cap."""
    import shutil
    from datetime import datetime, timedelta, timezone

    root = Path(root) if root is not None else sessions_root()
    trash = root / TRASH_FOLDER
    shutil.rmtree(trash, ignore_errors=True)  # what an earlier run was deleting when it stopped
    cutoff = datetime.now(timezone.utc) - timedelta(days=older_than_days)
    infos = list_sessions(root)
    sizes = {info.folder: _folder_bytes(info.folder) for info in infos}
    total, freed = sum(sizes.values()), 0
    removable = []
    for info in infos:
        saved = _int_or_none(_read_meta(info.folder, "saved_position"))
        if info.closed and info.updated and (info.position == 0 or saved == info.position):
            removable.append(info)
    for info in sorted(removable, key=lambda i: i.updated):  # least recently edited first
        old = datetime.fromisoformat(info.updated) <= cutoff
        if not old and (max_total_bytes is None or total <= max_total_bytes):
            continue
        lock = hold_lock(info.folder)
        if lock is None:
            continue  # opened since it was listed
        try:
            trash.mkdir(exist_ok=True)
            info.folder.rename(trash / info.folder.name)  # out of the listing in one step
        except OSError:
            continue
        finally:
            lock.close()
        shutil.rmtree(trash / info.folder.name, ignore_errors=True)
        freed += sizes[info.folder]
        total -= sizes[info.folder]
    return freed


def prune_in_background(root: Optional[Path] = None) -> None:
    """Start-up housekeeping on a daemon thread: prune with the default age and size cap."""
    import threading

    def run() -> None:
        try:
            prune_closed_sessions(root, KEEP_DAYS, SIZE_CAP_BYTES)
        except OSError:
            pass  # housekeeping only: a folder it cannot read is left alone

    threading.Thread(target=run, name="edit-session-prune", daemon=True).start()
