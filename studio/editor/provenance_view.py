"""How the library shows an edited version's provenance chain: what it was made from, and by which edits."""

from __future__ import annotations

from core.editing import label
from core.errors import LoaError
from core.library.store import Library, LibraryItem

MAX_LISTED_EDITS = 4


def edits_text(operations: list[dict]) -> str:
    names = [label(op) for op in operations]
    if len(names) > MAX_LISTED_EDITS:
        names = names[:MAX_LISTED_EDITS] + [f"{len(names) - MAX_LISTED_EDITS} more"]
    return ", ".join(names) or "no edits"


def version_line(item: LibraryItem) -> str:
    """One line under a version's row: "version of #7 · Delete, Gain -6.0 dB" ('' for an original)."""
    if getattr(item, "parent_id", None) is None:
        return ""
    return f"version of #{item.parent_id} · {edits_text(item.operations)}"


def chain_text(library: Library, item: LibraryItem) -> str:
    """The whole provenance chain for a tooltip, newest first, back to the original."""
    if getattr(item, "parent_id", None) is None:
        return ""
    try:
        chain = library.lineage(item.id)
    except (LoaError, AttributeError):
        return ""
    lines = ["Provenance:"]
    for link in chain:
        made = f" ← {edits_text(link.operations)}" if link.parent_id is not None else " (original)"
        lines.append(f"#{link.id} {link.title} [{link.mode}]{made}")
    return "\n".join(lines)
