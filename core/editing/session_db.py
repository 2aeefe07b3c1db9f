"""The sqlite side of an edit session: the `meta` key/value table and one `versions` row per clip version.

The database is in WAL mode with synchronous=FULL: a committed transaction survives the process being killed
and a power cut. `PRAGMA user_version` holds the schema version; `connect` brings an older session up to it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import numpy as np

from core.audio.clip import Clip
from core.editing.blocks import Ref
from core.editing.recovery import DB_NAME
from core.errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    seq INTEGER PRIMARY KEY,
    refs TEXT NOT NULL,
    frames INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    sample_rate INTEGER NOT NULL,
    operation TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    sel_start INTEGER NOT NULL, sel_end INTEGER NOT NULL,
    before_start INTEGER NOT NULL, before_end INTEGER NOT NULL,
    created TEXT NOT NULL
);
"""
# 1 (user_version 0: never set): version rows were committed before their large blocks were written, with a
#   `replay` table to compute an interrupted edit again. 2: blocks first, then the row (core.editing.writer).
SCHEMA_VERSION = 2


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def connect(folder: Path) -> tuple[sqlite3.Connection, Optional[str]]:
    """The session's database, at SCHEMA_VERSION, and a note when opening an older session dropped an edit."""
    try:
        db = sqlite3.connect(str(folder / DB_NAME), check_same_thread=False, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")  # a commit survives the process being killed
        db.execute("PRAGMA synchronous=FULL")  # and a power cut (fsync at commit; the writer thread waits)
        fresh = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'versions'").fetchone() is None
        db.isolation_level = ""  # back to implicit transactions, committed by `with db:`
        db.executescript(SCHEMA)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            db.close()
            raise InputError(f"The edit session {folder.name} was written by a newer LOA Studio; open it there, "
                             "or move the folder aside.")
        note = None if fresh or version == SCHEMA_VERSION else _migrate_from_1(db, folder)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return db, note
    except sqlite3.DatabaseError as exc:
        raise InputError(f"The edit session {folder} cannot be opened ({exc}); move the folder aside.") from exc


def _migrate_from_1(db: sqlite3.Connection, folder: Path) -> Optional[str]:
    """A session from before blocks-then-row: its newest version may name large blocks a crash never wrote.
    That one edit is dropped (it cannot be read); the replay table goes."""
    from core.editing.blocks import BlockStore

    note = None
    seq = last_seq(db)
    if seq:
        row = version_row(db, folder, seq)
        store = BlockStore(folder / "blocks")
        if not all(store.complete(ref, row["channels"]) for ref in row_refs(row)):
            with db:
                db.execute("DELETE FROM versions WHERE seq >= ?", (seq,))
                for key, value in (("position", str(seq - 1)), ("saved_position", "-1")):
                    db.execute("UPDATE meta SET value = ? WHERE key = ? AND CAST(value AS INTEGER) >= ?",
                               (value, key, seq))
            note = f"The last edit was interrupted before its audio was saved; it was dropped (version {seq})."
    with db:
        db.execute("DROP TABLE IF EXISTS replay")
    return note


def refs_json(refs: list[Ref]) -> str:
    return json.dumps([r.to_list() for r in refs])


def row_refs(row: sqlite3.Row) -> list[Ref]:
    return [Ref.from_list(r) for r in json.loads(row["refs"])]


def jsonable(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, Clip):
        return f"<{value.frames} frames at {value.sample_rate} Hz>"
    return str(value)


ROW_KEYS = ("seq", "refs", "frames", "channels", "sample_rate", "operation", "note", "sel_start", "sel_end",
            "before_start", "before_end", "created")


def new_row(seq: int, refs: list[Ref], clip: Clip, operation: dict, note: str, selection,
            before) -> dict:
    """A version row (the columns of the `versions` table) for the clip `refs` describe."""
    return dict(zip(ROW_KEYS, (seq, refs_json(refs), clip.frames, clip.channels, clip.sample_rate,
                               json.dumps(operation, default=jsonable), note, selection.start, selection.end,
                               before.start, before.end, now())))


def version_row(db: sqlite3.Connection, folder: Path, seq: int) -> sqlite3.Row:
    row = db.execute("SELECT * FROM versions WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        raise InputError(f"The edit session {folder} has no version {seq}; it may be damaged.")
    return row


def last_seq(db: sqlite3.Connection) -> int:
    return db.execute("SELECT MAX(seq) FROM versions").fetchone()[0]


def read_meta(db: sqlite3.Connection, key: str) -> str:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else ""


def referenced_blocks(db: sqlite3.Connection) -> set[str]:
    used = set()
    for (refs,) in db.execute("SELECT refs FROM versions").fetchall():
        used.update(r[0] for r in json.loads(refs))
    return used


def write_version(db: sqlite3.Connection, row: dict) -> None:
    """Record `row` as version row["seq"], in place of it and any later version (inside the caller's transaction)."""
    db.execute("DELETE FROM versions WHERE seq >= ?", (row["seq"],))
    db.execute("INSERT INTO versions VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", tuple(row[k] for k in ROW_KEYS))


def write_meta(db: sqlite3.Connection, values: dict[str, str]) -> None:
    db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))


def no_history_error(root: Path, exc: Exception) -> InputError:
    reason = getattr(exc, "strerror", None) or str(exc)
    return InputError(f"Cannot keep an edit history in {root} ({reason}); free some disk space or make the "
                      "folder writable (LOA_DATA_DIR chooses another).")


def not_saved_error(folder: Path, exc: Exception, what: str) -> InputError:
    reason = getattr(exc, "strerror", None) or str(exc)
    return InputError(f"{what} ({reason}) in {folder}; nothing was changed. Free some disk space (or check "
                      "the folder is writable) and try again.")


@dataclass
class HistoryStep:
    """One entry of the undo history: version `seq` (0 = the clip as opened)."""

    seq: int
    operation: dict
    note: str
    label: str
    created: str


def history_steps(db: sqlite3.Connection) -> list[HistoryStep]:
    """Every version, oldest first, labelled as the History panel shows it."""
    from core.editing.registry import label  # the operations' names live with the operations

    rows = db.execute("SELECT seq, operation, note, created FROM versions ORDER BY seq").fetchall()
    return [HistoryStep(r["seq"], json.loads(r["operation"]), r["note"], label(json.loads(r["operation"])),
                        r["created"]) for r in rows]


def operations_until(db: sqlite3.Connection, position: int) -> list[dict]:
    """The operations from the opened clip (version 0) to version `position`."""
    rows = db.execute("SELECT operation FROM versions WHERE seq BETWEEN 1 AND ? ORDER BY seq", (position,)).fetchall()
    return [json.loads(r["operation"]) for r in rows]
