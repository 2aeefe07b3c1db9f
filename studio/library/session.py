"""The candidates shown when the window closed (or the app was killed), back on the next start.

Takes already in the library are remembered by id; the others (with "Store every generation" off) are written as
float WAVs to <data>/session/ so nothing the user was auditioning is lost on quit. `session.json` lists them in
card order; it is replaced atomically on every save. `autosave(window)` saves whenever the cards change, so a
crash or `kill -9` loses none of them.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QTimer

from core.audio.clip import load_clip, save_clip
from core.errors import LoaError
from core.fileio import write_text_atomic
from core.library.store import Library
from core.paths import data_dir
from studio.shell.clip_entry import ClipEntry

log = logging.getLogger(__name__)
INDEX = "session.json"
_ENTRY_FIELDS = ("prompt", "mode", "model", "licence", "seed", "score", "settings", "kept", "favourite")


def session_folder() -> Path:
    return data_dir() / "session"


def save_shown_takes(entries: list[ClipEntry], library: Library, folder: Optional[Path] = None) -> None:
    folder = folder or session_folder()
    folder.mkdir(parents=True, exist_ok=True)
    records, keep_files = [], set()
    for n, entry in enumerate(entries):
        if entry.library_id is not None and _in_library(library, entry.library_id):
            records.append({"library_id": entry.library_id})
            continue
        name = entry.__dict__.get("_session_file")  # written by an earlier save: the same take, not rewritten
        if name is None or not (folder / name).is_file():
            name = f"take-{uuid.uuid4().hex[:12]}.wav"  # a new name: a crash never leaves an index naming a
            save_clip(entry.clip, folder / name, subtype="float32")  # file that holds another take
            entry.__dict__["_session_file"] = name
        keep_files.add(name)
        record = {k: v for k, v in asdict(entry).items() if k in _ENTRY_FIELDS}
        records.append({"file": name, **record})
    write_text_atomic(folder / INDEX, json.dumps(records, indent=1))
    for old in folder.glob("take-*.wav"):  # files of an earlier session no longer listed
        if old.name not in keep_files:
            old.unlink(missing_ok=True)


SAVE_DELAY_MS = 300  # the cards changed: saved this long after the last change


def autosave(window) -> QTimer:
    """Save the window's shown takes shortly after its cards change (a generation landed, a take was kept)."""
    timer = QTimer(window)
    timer.setSingleShot(True)
    timer.setInterval(SAVE_DELAY_MS)

    def save() -> None:
        try:
            save_shown_takes([card.entry for card in window.candidates.cards], window.library)
        except (OSError, LoaError) as exc:
            log.warning("could not keep the shown takes: %s", exc)

    timer.timeout.connect(save)
    window.candidates.cards_changed.connect(timer.start)
    return timer


def load_shown_takes(library: Library, folder: Optional[Path] = None) -> list[ClipEntry]:
    """The takes saved last time; any that cannot be read any more (deleted for good, damaged) are skipped."""
    folder = folder or session_folder()
    try:
        records = json.loads((folder / INDEX).read_text())
    except (OSError, ValueError):
        return []
    entries = []
    for record in records if isinstance(records, list) else []:
        try:
            if "library_id" in record:
                entries.append(ClipEntry.from_library(library.get(int(record["library_id"]))))
            else:
                fields = {k: record[k] for k in _ENTRY_FIELDS if k in record}
                entries.append(ClipEntry(clip=load_clip(folder / record["file"]), **fields))
        except (LoaError, OSError, KeyError, TypeError, ValueError) as exc:
            log.info("a take of the last session is gone: %s", exc)
    return entries


def _in_library(library: Library, item_id: int) -> bool:
    try:
        library.get(item_id)
    except LoaError:
        return False
    return True
