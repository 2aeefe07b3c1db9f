"""The library: every generation with its prompt, settings, seed, model and licence, in sqlite.

The database file lives in the user data folder (`core.paths.data_dir()`, LOA_DATA_DIR overrides)
and the audio files beside it under `audio/`. Deleting moves an item to the trash (undoable);
`purge()` removes trashed rows and their files for good. Thread-safe: one connection behind a lock,
so the GUI thread and job workers can both write.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from core.audio.clip import Clip, load_clip
from core.audio.naming import take_file_name, take_title, unique_path
from core.audio.provenance import Provenance, save_with_provenance, sidecar_path
from core.errors import InputError
from core.output_checks import OutputExists
from core.paths import data_dir

DB_NAME = "library.sqlite3"
AUDIO_FOLDER = "audio"
SCHEMA_VERSION = 2  # 2: parent_id + operations (edited versions and their provenance chain)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    prompt TEXT NOT NULL,
    negative_prompt TEXT NOT NULL DEFAULT '',
    mode TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    seed INTEGER,
    model TEXT NOT NULL,
    licence TEXT NOT NULL DEFAULT '',
    score REAL,
    audio_path TEXT NOT NULL,
    sample_rate INTEGER NOT NULL,
    seconds REAL NOT NULL,
    created TEXT NOT NULL,
    kept INTEGER NOT NULL DEFAULT 0,
    favourite INTEGER NOT NULL DEFAULT 0,
    trashed INTEGER NOT NULL DEFAULT 0,
    trashed_at TEXT
);
CREATE INDEX IF NOT EXISTS items_created ON items (created);
CREATE INDEX IF NOT EXISTS items_mode_model ON items (mode, model);
"""

# Columns added after version 1, with their definitions: a database from an older version gains them on open.
_ADDED_COLUMNS = {
    "parent_id": "INTEGER REFERENCES items (id)",  # the item this one was edited from (None: an original)
    "operations": "TEXT NOT NULL DEFAULT '[]'",  # the edits that turned the parent into this item
}
EDIT_MODE = "edit"


@dataclass
class LibraryItem:
    """One stored generation. `audio_path` is absolute; the database keeps it relative to the library."""

    id: int
    prompt: str
    negative_prompt: str
    mode: str
    settings: dict[str, Any]
    seed: Optional[int]
    model: str
    licence: str
    score: Optional[float]
    audio_path: Path
    sample_rate: int
    seconds: float
    created: str
    kept: bool = False
    favourite: bool = False
    trashed: bool = False
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    parent_id: Optional[int] = None
    operations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_version(self) -> bool:
        return self.parent_id is not None

    def load_clip(self) -> Clip:
        return load_clip(self.audio_path)

    def provenance(self) -> Provenance:
        return Provenance(prompt=self.prompt, model_id=self.model, licence=self.licence, seed=self.seed,
                          settings=dict(self.settings), score=self.score, created=self.created)

    @property
    def title(self) -> str:
        """The words for speech, source and operation for in-context takes, else the prompt."""
        return take_title(self.prompt, self.settings)

    def search_text(self) -> str:
        """Everything a library search looks in: prompt, negative prompt, spoken words, source file, model, and
        "version" plus the edits for a saved version."""
        source = self.settings.get("source")
        return " ".join(str(part) for part in (
            self.prompt, self.negative_prompt, self.settings.get("text") or self.settings.get("transcription") or "",
            Path(str(source)).name if source else "", self.settings.get("operation") or "", self.model,
            Path(self.model).name, self.title, self.settings.get("batch") or "", self._version_words())).casefold()

    def _version_words(self) -> str:
        """A saved version is found by "version" (and "edited") and by its edits' names, as its row reads."""
        if not self.is_version:
            return ""
        labels = " ".join(str(op.get("label") or op.get("op") or "") for op in self.operations
                          if isinstance(op, dict))
        return f"version edited {labels}"


class Library:
    """A library folder: `library.sqlite3` plus `audio/YYYY-MM/` files. Default folder: the user data folder."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else data_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.db_path = self.folder / DB_NAME
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(str(self.db_path), check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            with self._db:
                self._db.executescript(_SCHEMA)
                self._migrate()
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise InputError(f"The library database {self.db_path} cannot be opened ({exc}); move it aside "
                             "and restart, or point LOA_DATA_DIR at another folder.") from exc

    def _migrate(self) -> None:
        have = {row["name"] for row in self._db.execute("PRAGMA table_info(items)")}
        for column, definition in _ADDED_COLUMNS.items():
            if column not in have:
                self._db.execute(f"ALTER TABLE items ADD COLUMN {column} {definition}")
        self._db.execute("CREATE INDEX IF NOT EXISTS items_parent ON items (parent_id)")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- adding ------------------------------------------------------------------------------------
    def add(self, clip: Clip, *, prompt: str, mode: str, model: str, licence: str, seed: Optional[int] = None,
            score: Optional[float] = None, settings: Optional[dict[str, Any]] = None, kept: bool = False,
            created: Optional[str] = None, parent_id: Optional[int] = None,
            operations: Optional[list[dict[str, Any]]] = None) -> LibraryItem:
        """Store a clip (float WAV with provenance tags and sidecar) and its record; return the item."""
        settings = dict(settings or {})
        operations = list(operations or [])
        created = created or datetime.now(timezone.utc).isoformat(timespec="seconds")
        provenance = Provenance(prompt=prompt, model_id=model, licence=licence, seed=seed, settings=settings,
                                score=score, created=created)
        name = take_file_name(prompt, settings, seed)
        path = self._new_audio_path(name, created)
        try:  # atomic, and never over another item's file (two workers may pick the same free name)
            save_with_provenance(clip, path, provenance, subtype="float32", overwrite=False)
        except OutputExists:
            path = self._new_audio_path(name, created)
            save_with_provenance(clip, path, provenance, subtype="float32", overwrite=False)
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO items (prompt, negative_prompt, mode, settings, seed, model, licence, score,"
                " audio_path, sample_rate, seconds, created, kept, parent_id, operations)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (prompt, str(settings.get("negative_prompt") or ""), mode, json.dumps(settings, sort_keys=True),
                 seed, model, licence, score, path.relative_to(self.folder).as_posix(), clip.sample_rate,
                 round(clip.seconds, 6), created, int(kept), parent_id, json.dumps(operations, default=str)))
            return self.get(cursor.lastrowid)

    def add_version(self, parent_id: int, clip: Clip, operations: list[dict[str, Any]],
                    kept: bool = True) -> LibraryItem:
        """Store an edited version of item `parent_id` as a new item; the parent and its file stay as they are.

        The version keeps the parent's prompt, model, licence and seed, and records the parent and the
        `operations` that made it (see `lineage`)."""
        parent = self.get(parent_id)
        settings = dict(parent.settings) | {"derived_from": parent.id, "operations": operations}
        return self.add(clip, prompt=parent.prompt, mode=EDIT_MODE, model=parent.model, licence=parent.licence,
                        seed=parent.seed, settings=settings, kept=kept, parent_id=parent.id,
                        operations=operations)

    def add_result(self, result, mode: str, kept: bool = False,
                   into: Optional[list[LibraryItem]] = None) -> list[LibraryItem]:
        """Store every candidate of a core GenerationResult, best first. `into` collects each item as it is
        stored, so a caller whose disk fills partway still knows which takes made it."""
        items = into if into is not None else []
        for c in result.candidates:
            items.append(self.add(c.clip, prompt=result.request.prompt, mode=mode, model=result.model_id,
                                  licence=result.licence, seed=c.seed, score=c.score, settings=c.settings, kept=kept))
        return items

    def _new_audio_path(self, file_name: str, created: str) -> Path:
        month = created[:7] if len(created) >= 7 else "undated"
        # The same prompt and seed twice (e.g. regenerated) keeps both files.
        return unique_path(self.folder / AUDIO_FOLDER / month / file_name)

    # ---- reading -----------------------------------------------------------------------------------
    def get(self, item_id: int) -> LibraryItem:
        with self._lock:
            row = self._db.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise InputError(f"No library item with id {item_id}.")
        return self._item(row)

    def search(self, text: str = "", *, mode: Optional[str] = None, model: Optional[str] = None,
               favourites_only: bool = False, kept_only: bool = False, trashed: bool = False,
               limit: Optional[int] = None, ids: Optional[Sequence[int]] = None) -> list[LibraryItem]:
        """Newest first. Every word of `text` must appear in the prompt, negative prompt, spoken words, source
        file name or model (LibraryItem.search_text); the word match runs in Python, where the words live in
        the settings JSON. `ids`: only among these items (which of a job's new takes a filtered view shows)."""
        where, args = ["trashed = ?"], [int(trashed)]
        if ids is not None:
            where.append(f"id IN ({','.join('?' * len(ids))})")
            args.extend(int(i) for i in ids)
        if mode:
            where.append("mode = ?")
            args.append(mode)
        if model:
            where.append("model = ?")
            args.append(model)
        if favourites_only:
            where.append("favourite = 1")
        if kept_only:
            where.append("kept = 1")
        sql = f"SELECT * FROM items WHERE {' AND '.join(where)} ORDER BY created DESC, id DESC"
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        words = text.casefold().split()
        items = [item for item in map(self._item, rows)
                 if not words or all(word in item.search_text() for word in words)]
        return items if limit is None else items[:int(limit)]

    def lineage(self, item_id: int) -> list[LibraryItem]:
        """The item, then what it was derived from, back to the original: the provenance chain."""
        chain, seen = [self.get(item_id)], {item_id}
        while chain[-1].parent_id is not None and chain[-1].parent_id not in seen:
            seen.add(chain[-1].parent_id)
            try:
                chain.append(self.get(chain[-1].parent_id))
            except InputError:
                break  # the parent was purged: the chain ends at the oldest item still stored
        return chain

    def versions_of(self, item_id: int) -> list[LibraryItem]:
        """Items edited directly from `item_id`, oldest first (trashed ones included)."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM items WHERE parent_id = ? ORDER BY created, id",
                                    (item_id,)).fetchall()
        return [self._item(r) for r in rows]

    def modes(self) -> list[str]:
        return self._distinct("mode")

    def models(self) -> list[str]:
        return self._distinct("model")

    def count(self, trashed: bool = False) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM items WHERE trashed = ?", (int(trashed),)).fetchone()[0]

    def _distinct(self, column: str) -> list[str]:
        with self._lock:
            rows = self._db.execute(f"SELECT DISTINCT {column} FROM items WHERE trashed = 0 ORDER BY {column}")
            return [r[0] for r in rows.fetchall()]

    def _item(self, row: sqlite3.Row) -> LibraryItem:
        return LibraryItem(id=row["id"], prompt=row["prompt"], negative_prompt=row["negative_prompt"],
                           mode=row["mode"], settings=json.loads(row["settings"] or "{}"), seed=row["seed"],
                           model=row["model"], licence=row["licence"], score=row["score"],
                           audio_path=self.folder / row["audio_path"], sample_rate=row["sample_rate"],
                           seconds=row["seconds"], created=row["created"], kept=bool(row["kept"]),
                           favourite=bool(row["favourite"]), trashed=bool(row["trashed"]),
                           parent_id=row["parent_id"], operations=json.loads(row["operations"] or "[]"))

    # ---- changing ----------------------------------------------------------------------------------
    def set_kept(self, item_id: int, kept: bool = True) -> LibraryItem:
        return self._set(item_id, "kept", int(kept))

    def set_favourite(self, item_id: int, favourite: bool = True) -> LibraryItem:
        return self._set(item_id, "favourite", int(favourite))

    def trash(self, item_ids: int | Iterable[int]) -> list[int]:
        """Move items to the trash; return their ids so the caller can `restore` them (undo)."""
        ids = [item_ids] if isinstance(item_ids, int) else list(item_ids)
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._lock, self._db:
            self._db.executemany("UPDATE items SET trashed = 1, trashed_at = ? WHERE id = ?",
                                 [(now, i) for i in ids])
        return ids

    def restore(self, item_ids: int | Iterable[int]) -> None:
        ids = [item_ids] if isinstance(item_ids, int) else list(item_ids)
        with self._lock, self._db:
            self._db.executemany("UPDATE items SET trashed = 0, trashed_at = NULL WHERE id = ?",
                                 [(i,) for i in ids])

    def purge(self, item_ids: Optional[Iterable[int]] = None) -> int:
        """Delete trashed items (all, or those of `item_ids` that are in the trash) and their audio files for
        good; return how many were removed."""
        with self._lock:
            rows = self._db.execute("SELECT id, audio_path FROM items WHERE trashed = 1").fetchall()
            if item_ids is not None:
                wanted = set(item_ids)
                rows = [r for r in rows if r["id"] in wanted]
            for row in rows:
                audio = self.folder / row["audio_path"]
                for path in (audio, sidecar_path(audio)):
                    path.unlink(missing_ok=True)
            with self._db:
                self._db.executemany("DELETE FROM items WHERE id = ? AND trashed = 1", [(r["id"],) for r in rows])
        return len(rows)

    def _set(self, item_id: int, column: str, value: Any) -> LibraryItem:
        with self._lock, self._db:
            self._db.execute(f"UPDATE items SET {column} = ? WHERE id = ?", (value, item_id))
        return self.get(item_id)
