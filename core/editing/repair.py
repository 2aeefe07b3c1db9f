"""Opening a session whose newest edit a crash interrupted: compute its missing blocks again, or drop it.

Large blocks are written after their edit is recorded (core.editing.writer), so a kill -9 (or a power cut)
can leave the newest version referring to a block that is missing or short. Edits made by a pure operation
record how they were called (`replay` table: name, selection, parameters); running that call again on the
version before gives the same samples bit for bit, so the blocks are written again and nothing is lost. An edit
that cannot be recomputed (a paste, a result computed elsewhere) is dropped: the crash loses that one edit.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Optional

from core.audio.clip import Clip
from core.editing.blocks import BlockStore, refs_after_change
from core.editing.operations import OPERATIONS, operation
from core.editing.selection import Selection
from core.editing.session_db import last_seq, row_refs, version_row

# Pure functions of (clip, selection, JSON parameters); paste needs the clipboard, copy changes nothing.
REPLAYABLE = set(OPERATIONS) - {"paste", "copy"}


def replay_call(name: str, selection: Selection, params: dict) -> Optional[str]:
    """The JSON that lets `repair_newest_version` run this edit again, or None when it cannot."""
    if name not in REPLAYABLE:
        return None
    try:
        return json.dumps({"name": name, "selection": [selection.start, selection.end], "params": params})
    except (TypeError, ValueError):
        return None


class _Rewriter:
    """A `store` for refs_after_change that writes the blocks under the ids the version already names."""

    def __init__(self, store: BlockStore, ids: list[str]) -> None:
        self.store, self.ids, self.written = store, list(ids), []

    def write(self, samples) -> str:
        if not self.ids:
            raise ValueError("the recomputed edit writes more blocks than were recorded")
        block = self.ids.pop(0)
        self.store.write(samples, block, durable=True)
        self.written.append(block)
        return block


def repair_newest_version(db: sqlite3.Connection, folder: Path, store: BlockStore) -> Optional[str]:
    """Make the newest version readable; return a note when it had to be recomputed or dropped."""
    seq = last_seq(db)
    if not seq:
        return None  # version 0 is on disk before the session exists
    row = version_row(db, folder, seq)
    refs = row_refs(row)
    missing = list(dict.fromkeys(r.block for r in refs if not store.complete(r, row["channels"])))
    if not missing:
        return None
    found = db.execute("SELECT call FROM replay WHERE seq = ?", (seq,)).fetchone()
    if found is not None:
        rewriter = _Rewriter(store, missing)
        try:
            before = version_row(db, folder, seq - 1)
            before_refs = row_refs(before)
            clip = Clip(store.read(before_refs, before["frames"], before["channels"]), before["sample_rate"])
            call = json.loads(found[0])
            result = operation(call["name"])(clip, Selection(*call["selection"]), **call["params"])
            if result.changed is not None and refs_after_change(before_refs, clip, result.clip, result.changed,
                                                                rewriter) == refs:
                return f"The last edit was interrupted; its audio was computed again (version {seq})."
        except (OSError, ValueError, KeyError, TypeError):
            pass
        store.remove(rewriter.written)
    with db:  # cannot be recomputed: the crash loses this one edit
        db.execute("DELETE FROM versions WHERE seq >= ?", (seq,))
        db.execute("DELETE FROM replay WHERE seq >= ?", (seq,))
        for key in ("position", "saved_position"):
            db.execute("UPDATE meta SET value = ? WHERE key = ? AND CAST(value AS INTEGER) >= ?",
                       (str(seq - 1) if key == "position" else "-1", key, seq))
    return f"The last edit was interrupted before its audio was saved; it was dropped (version {seq})."
