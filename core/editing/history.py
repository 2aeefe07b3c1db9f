"""EditSession: a clip being edited, with multi-level undo/redo persisted as it happens.

A session is a folder (by default `<data dir>/edits/<id>/`) holding `session.sqlite3` and `blocks/`.
Each version of the clip is a row listing references into immutable sample blocks (see
`core.editing.blocks`); an edit writes only the frames it changed, as a new block (temp file + fsync +
rename), and only then records the version in one sqlite transaction (core.editing.writer: Audacity's order,
on one writer thread, while the clip in memory changes at once). A crash or kill -9 therefore loses at most
the edit in flight, and `EditSession.open(folder)` restores the clip at its current version with its whole
undo/redo history. Memory holds only the current version; undo and redo rebuild a version from its
blocks, so they return exactly the array that version had.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from core.audio.clip import Clip
from core.editing import reuse, writer
from core.editing.blocks import BlockStore, Ref, diff_span, refs_after_change
from core.editing.recovery import DB_NAME, hold_lock, sessions_root
from core.editing.registry import JOINING, label, operation
from core.editing.selection import Change, EditResult, Selection, snap_to_zero_crossings
from core.editing.session_db import (
    HistoryStep,
    connect,
    history_steps,
    last_seq,
    new_row,
    no_history_error,
    not_saved_error,
    now,
    operations_until,
    read_meta,
    referenced_blocks,
    row_refs,
    version_row,
    write_meta,
    write_version,
)
from core.editing.writer import PlannedWrites, SessionWriter
from core.errors import InputError


class EditSession:
    """The clip being edited. Build with `create` or `open`; edit with `apply` or `commit`.

    The clip, position and history in memory are the truth the caller sees; the session's writer thread brings
    the folder up to them (blocks, then the version row), one edit at a time."""

    def __init__(self, folder: Path, db: sqlite3.Connection, clip: Optional[Clip] = None,
                 first: Optional[dict] = None) -> None:
        self.folder = folder
        self._open_lock = hold_lock(folder)
        if self._open_lock is None:
            db.close()
            raise InputError(f"The edit session {folder.name} is open in another LOA Studio process; close it "
                             "there first.")
        self.blocks = BlockStore(folder / "blocks")
        self._db = db
        self._lock = threading.RLock()  # one caller at a time
        self._db_lock = threading.Lock()  # the caller's reads against the writer thread's commits
        self._writer = SessionWriter()
        self._unwritten: dict[int, dict] = {}  # version rows submitted to the writer, not yet committed
        self.repair_note: Optional[str] = None  # set by `open`: an older session's interrupted edit, dropped
        self.clipboard: Optional[Clip] = None
        self.join_crossfade: Optional[float] = None  # seconds for every join (None: each operation's default)
        self.snap_zero_crossings = False  # move selection edges to zero crossings before each edit
        if first is not None:  # creating: version 0 is being written
            self._unwritten[0] = first
            self.position, self._last, self._saved = 0, 0, -1
        else:
            self.position, self._last = self._meta_int("position"), last_seq(db)
            self._saved = self._meta_int("saved_position")
        self._name, self._source = self._meta("name"), json.loads(self._meta("source") or "{}")
        row = self._version(self.position)
        self._refs = row_refs(row)
        if clip is None:  # opening: the current version from its blocks
            try:
                clip = Clip(self.blocks.read(self._refs, row["frames"], row["channels"]), row["sample_rate"])
            except (OSError, ValueError) as exc:
                db.close()
                self._open_lock.close()
                raise InputError(f"The edit session {folder.name} cannot be read ({exc}); its audio blocks are "
                                 "damaged or missing. Move the folder aside.") from exc
        self.clip = clip
        self.selection = Selection(row["sel_start"], row["sel_end"])

    # ---- opening -----------------------------------------------------------------------------------
    @classmethod
    def create(cls, clip: Clip, name: str = "", source: Optional[dict[str, Any]] = None,
               root: Optional[Path] = None) -> "EditSession":
        """Start editing `clip`. `source` says where it came from (e.g. {"library_id": 7} or {"path": ...}).

        The session shares `clip`'s array (no copy of a long clip): operations never modify it in place, and
        neither should the caller. A long clip's first block is written behind (a session killed before its
        version 0 is committed is never offered for restore)."""
        root = Path(root) if root is not None else sessions_root()
        folder = root / (datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8])
        try:
            folder.mkdir(parents=True)
            db, _ = connect(folder)
            with db:
                write_meta(db, {"name": name, "source": json.dumps(source or {}), "created": now(), "position": "0",
                                "saved_position": "-1", "closed": "0", "pid": str(os.getpid())})
            plan = PlannedWrites(BlockStore(folder / "blocks"))
            refs = [Ref(plan.write(clip.samples), 0, clip.frames)] if clip.frames else []
            row = new_row(0, refs, clip, {"op": "open", "label": "Open"}, "", Selection(), Selection())
            session = cls(folder, db, clip, first=row)
        except (OSError, sqlite3.DatabaseError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise no_history_error(root, exc) from exc
        try:
            session._persist(plan, row, {})
        except (OSError, sqlite3.DatabaseError) as exc:
            session.discard()
            raise no_history_error(root, exc) from exc
        return session

    @classmethod
    def open(cls, folder: str | Path) -> "EditSession":
        """Reopen a session folder (after a crash, or a clip closed earlier) at its current version."""
        folder = Path(folder)
        if not (folder / DB_NAME).is_file():
            raise InputError(f"{folder} is not an edit session (no {DB_NAME}); choose a folder under "
                             f"{sessions_root()}.")
        db, note = connect(folder)
        session = cls(folder, db)
        session.repair_note = note
        session._collect_garbage()  # blocks of an edit a crash interrupted
        session._set_meta({"closed": "0", "pid": str(os.getpid())})
        return session

    def _finish_writes(self) -> None:
        try:
            self._writer.close()
        except (OSError, sqlite3.DatabaseError):
            pass  # the disk refused the last edit: the session reopens at the edit before it

    def close(self) -> None:
        """Close the clip cleanly; the folder and its history stay (open it again with `open`)."""
        with self._lock:
            self._set_meta({"closed": "1"})
            self._finish_writes()
            self._db.close()
            self._open_lock.close()

    def abandon(self) -> None:
        """Let go of the session the way a crash does: not marked closed, lock released, so
        `recoverable_sessions` offers it and another process can `open` it."""
        with self._lock:
            self._finish_writes()
            self._db.close()
            self._open_lock.close()

    def discard(self) -> None:
        """Close and delete the session folder with all its history."""
        with self._lock:
            self._finish_writes()
            self._db.close()
            self._open_lock.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    # ---- state -------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def source(self) -> dict:
        return dict(self._source)

    def set_source(self, source: dict) -> None:
        with self._lock:
            self._source = dict(source)
            self._set_meta({"source": json.dumps(source)})

    @property
    def can_undo(self) -> bool:
        return self.position > 0

    @property
    def can_redo(self) -> bool:
        return self.position < self._last

    @property
    def has_unsaved_edits(self) -> bool:
        """True when the current version differs from the opened clip and was not saved as a version."""
        return self.position != 0 and self.position != self._saved

    def mark_saved(self, library_id: Optional[int] = None) -> None:
        with self._lock:
            self._saved = self.position
            values = {"saved_position": str(self.position)}
            if library_id is not None:
                values["saved_library_id"] = str(library_id)
            self._set_meta(values)

    def history(self) -> list[HistoryStep]:
        """Every version, oldest first (the ones after `position` are the redo steps)."""
        with self._lock:
            self.flush()
            return history_steps(self._db)

    def operations(self) -> list[dict]:
        """The operations from the opened clip to the current version (for provenance)."""
        with self._lock:
            self.flush()
            return operations_until(self._db, self.position)

    def version_clip(self, seq: int) -> Clip:
        """The clip as it was at version `seq` (0 = as opened), read from its blocks."""
        with self._lock:
            self.flush()
            row = self._version(seq)
            return Clip(self.blocks.read(row_refs(row), row["frames"], row["channels"]), row["sample_rate"])

    def flush(self) -> None:
        """Wait until every edit so far is on disk (a long clip's large blocks are written behind the edit;
        see core.editing.writer). OSError or sqlite3.DatabaseError when the disk refuses."""
        with self._lock:
            self._writer.wait()

    def disk_bytes(self) -> int:
        """Bytes of audio blocks on disk (once the last edit's are written)."""
        self.flush()
        return self.blocks.bytes_used()

    # ---- editing -----------------------------------------------------------------------------------
    def apply(self, name: str, selection: Optional[Selection] = None, **params) -> EditResult:
        """Run the operation `name` (see core.editing.registry.OPERATIONS) on the current clip and record it.

        `paste` without a `pasted` clip uses the session's clipboard; cut and copy fill it. `join_crossfade`
        and `snap_zero_crossings` (the editor's settings) apply unless the call says otherwise.
        """
        with self._lock:
            selection = self.selection if selection is None else selection
            if self.snap_zero_crossings:
                selection = snap_to_zero_crossings(self.clip, selection)
            if name in JOINING and "crossfade" not in params and self.join_crossfade is not None:
                params["crossfade"] = self.join_crossfade
            if name == "paste" and "pasted" not in params:
                if self.clipboard is None:
                    raise InputError("The clipboard is empty: cut or copy some audio first.")
                params["pasted"] = self.clipboard
            result = operation(name)(self.clip, selection, **params)
            if result.clipboard is not None:
                self.clipboard = result.clipboard
            if result.did_change:
                self._record(result, selection)
            return result

    def commit(self, clip: Clip, selection: Optional[Selection] = None, operation: Optional[dict] = None,
               note: str = "") -> EditResult:
        """Record a clip computed elsewhere (regenerate, transform, a punch-in take) as the next version.

        Only the frames that differ from the current version are stored."""
        with self._lock:
            old = self.clip
            if clip.sample_rate == old.sample_rate and clip.channels == old.channels:
                change = Change(*diff_span(old.samples, clip.samples))
            else:
                change = Change(0, old.frames, clip.frames)
            sel = (selection or self.selection).clamped(clip.frames)
            result = EditResult(clip, sel, note=note, changed=change, operation=dict(operation or {"op": "edit"}))
            self._record(result, self.selection)
            return result

    def undo(self) -> EditResult:
        """Go back one version; the result's clip is exactly the array that version had."""
        with self._lock:
            if not self.can_undo:
                raise InputError("Nothing to undo.")
            undone = self._version(self.position)
            result = self._move_to(self.position - 1)
            result.selection = Selection(undone["before_start"], undone["before_end"]).clamped(self.clip.frames)
            self.selection = result.selection
            result.note = f"Undid {label(json.loads(undone['operation']))}."
            return result

    def redo(self) -> EditResult:
        with self._lock:
            if not self.can_redo:
                raise InputError("Nothing to redo.")
            result = self._move_to(self.position + 1)
            result.note = f"Redid {label(result.operation)}."
            return result

    def set_selection(self, selection: Selection) -> None:
        """Remember the selection (not an undo step; kept only in memory until the next edit)."""
        self.selection = selection.clamped(self.clip.frames)

    # ---- internals ---------------------------------------------------------------------------------
    def _record(self, result: EditResult, before: Selection) -> None:
        """Store the result as the next version. The previous edit's writes are finished first (so a kill loses
        at most this one); if the disk refuses, nothing changes, in memory or on disk, and the error says so."""
        try:
            self._writer.wait()
        except (OSError, sqlite3.DatabaseError) as exc:
            raise not_saved_error(self.folder, exc, "The previous edit is still not saved") from exc
        new = result.clip
        plan = PlannedWrites(self.blocks)
        refs = refs_after_change(self._refs, self.clip, new, result.changed, plan)
        seq = self.position + 1
        row = new_row(seq, refs, new, result.operation, result.note, result.selection, before)
        saved = self._saved if self._saved < seq else -1
        try:
            self._persist(plan, row, {"position": str(seq), "saved_position": str(saved)})
        except (OSError, sqlite3.DatabaseError) as exc:
            raise not_saved_error(self.folder, exc, "The edit could not be saved") from exc
        discarded = self._last >= seq  # the redo steps (and their blocks) go
        self.position, self._last, self._saved = seq, seq, saved
        self._refs, self.clip, self.selection = refs, new, result.selection
        if discarded:
            self._writer.submit(self._collect_garbage)

    def _persist(self, plan: PlannedWrites, row: dict, meta: dict[str, str]) -> None:
        """Have the writer thread write `plan`'s blocks, then commit `row` (replacing it and any later version)
        with `meta`. Waits when the edit wrote little audio; a long clip's large blocks are written behind."""
        seq = row["seq"]

        def job() -> None:
            plan.write_all()
            with self._db_lock, self._db:
                write_version(self._db, row)
                write_meta(self._db, meta)
                self._unwritten.pop(seq, None)

        def undo() -> None:
            self._unwritten.pop(seq, None)
            self.blocks.remove(plan.blocks)

        self._unwritten[seq] = row
        if plan.nbytes < writer.BACKGROUND_MIN_BYTES:
            self._writer.run(job, undo)
        else:
            self._writer.submit(job)

    def _move_to(self, seq: int) -> EditResult:
        row = self._version(seq)
        refs = row_refs(row)
        try:
            if seq in self._unwritten:  # a quick redo of an edit whose blocks are still being written
                self._writer.wait()
            # what the target shares with the clip in memory is copied from it; only the rest is read
            samples = reuse.build(self.blocks, refs, row["frames"], row["channels"], self._refs, self.clip.samples)
        except (OSError, ValueError, sqlite3.DatabaseError) as exc:
            raise InputError(f"Step {seq} of this edit history cannot be read ({exc}); the clip stays as it is "
                             "now.") from exc
        self._set_meta({"position": str(seq)})
        self.position, self._refs = seq, refs
        self.clip = Clip(samples, row["sample_rate"])
        self.selection = Selection(row["sel_start"], row["sel_end"]).clamped(self.clip.frames)
        return EditResult(self.clip, self.selection, operation=json.loads(row["operation"]),
                          changed=Change(0, 0, 0))

    def _collect_garbage(self) -> None:
        """Delete the blocks no version refers to (run where no edit is being written: on open, or queued on
        the writer thread)."""
        try:
            with self._db_lock:
                used = referenced_blocks(self._db)
            self.blocks.remove(self.blocks.existing() - used)
        except (OSError, sqlite3.DatabaseError):
            pass  # housekeeping: left for the next open to collect

    def _version(self, seq: int):
        with self._db_lock:
            if seq in self._unwritten:
                return self._unwritten[seq]
            return version_row(self._db, self.folder, seq)

    def _meta(self, key: str) -> str:
        with self._db_lock:
            return read_meta(self._db, key)

    def _meta_int(self, key: str) -> int:
        return int(self._meta(key) or 0)

    def _set_meta(self, values: dict[str, str]) -> None:
        """Queued behind the edits' writes, so the folder changes in the order the session did."""
        def job() -> None:
            with self._db_lock, self._db:
                write_meta(self._db, values)

        self._writer.submit(job)
