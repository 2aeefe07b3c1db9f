"""Saving an edit session as a new library version: the original is never overwritten.

A session edited from a library item (source {"library_id": N}) saves as a version of item N, recording
the operations since the clip was opened. A session on a file or a recording that is not in the library
yet first stores the original as an item of its own (mode "import"), so the chain always starts at the
audio the user began with.
"""

from __future__ import annotations

from pathlib import Path

from core.audio.formats.source import FORMAT_KEY, SUBTYPE_KEY
from core.editing.history import EditSession
from core.library.store import Library, LibraryItem

IMPORT_MODE = "import"


def original_item(session: EditSession, library: Library) -> LibraryItem:
    """The library item the session started from, storing the opened clip first if it has none."""
    source = session.source
    if source.get("library_id") is not None:
        return library.get(int(source["library_id"]))
    first = session.history()[0].seq
    original = session.version_clip(first)
    name = session.name or Path(str(source.get("path") or "untitled")).stem
    item = library.add(original, prompt=name, mode=IMPORT_MODE, model=str(source.get("model") or ""),
                       licence=str(source.get("licence") or ""), kept=True,
                       settings={"source": {k: str(v) for k, v in source.items()},
                                 **{k: source[k] for k in (FORMAT_KEY, SUBTYPE_KEY) if source.get(k)}})
    session.set_source(source | {"library_id": item.id})
    return item


def save_as_version(session: EditSession, library: Library) -> LibraryItem:
    """Store the session's current clip as a new version of its original; mark the session saved."""
    parent = original_item(session, library)
    item = library.add_version(parent.id, session.clip, session.operations())
    session.mark_saved(item.id)
    return item


def describe_lineage(library: Library, item_id: int) -> list[str]:
    """One line per link of the provenance chain, newest first, e.g. '#12 edit: Cut, Gain +3.0 dB'."""
    from core.editing.registry import label

    lines = []
    for item in library.lineage(item_id):
        ops = ", ".join(label(op) for op in item.operations)
        lines.append(f"#{item.id} {item.mode}: {item.title}" + (f" <- {ops}" if ops else ""))
    return lines
