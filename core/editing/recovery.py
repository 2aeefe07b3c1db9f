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
                                 meta.get("closed") == "1", _int_or_none(meta.get("pid"))))
    return infos


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


def prune_closed_sessions(root: Optional[Path] = None, older_than_days: float = 30.0) -> int:
    """Delete sessions closed cleanly more than `older_than_days` ago (by their last edit) whose current
    version was saved to the library or never edited; return the bytes freed. Sessions that were not closed,
    that are open, or that hold unsaved edits are never touched."""
    import shutil
    from datetime import datetime, timedelta, timezone

    cutoff = datetime.now(timezone.utc) - timedelta(days=older_than_days)
    freed = 0
    for info in list_sessions(root):
        if not info.closed or not info.updated or datetime.fromisoformat(info.updated) > cutoff:
            continue
        saved = _int_or_none(_read_meta(info.folder, "saved_position"))
        if info.position != 0 and saved != info.position:
            continue  # unsaved edits: keep them until the user decides
        lock = hold_lock(info.folder)
        if lock is None:
            continue
        lock.close()
        freed += sum(p.stat().st_size for p in info.folder.rglob("*") if p.is_file())
        shutil.rmtree(info.folder, ignore_errors=True)
    return freed
