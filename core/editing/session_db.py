"""The sqlite side of an edit session: the `meta` key/value table and one `versions` row per clip version.

The database is in WAL mode, so a committed transaction survives the process being killed.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

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
-- how an edit was called, for edits a crash may leave without their large blocks (core.editing.repair)
CREATE TABLE IF NOT EXISTS replay (seq INTEGER PRIMARY KEY, call TEXT NOT NULL);
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def connect(folder: Path) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(str(folder / DB_NAME), check_same_thread=False, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")  # a commit survives the process being killed
        db.execute("PRAGMA synchronous=NORMAL")
        db.isolation_level = ""  # back to implicit transactions, committed by `with db:`
        db.executescript(SCHEMA)
        return db
    except sqlite3.DatabaseError as exc:
        raise InputError(f"The edit session {folder} cannot be opened ({exc}); move the folder aside.") from exc


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
