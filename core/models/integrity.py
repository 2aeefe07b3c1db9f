"""Cheap checks that a model folder's files are whole, done before any weights load.

A download cut short or a copy to a full disk leaves weight files that are truncated or empty; safetensors
files say their own length in their header, so a damaged one is found by reading a few bytes, and named.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Optional

DAMAGED_HINT = "the folder is damaged; download it again"


def index_problem(index) -> Optional[str]:
    """Why a parsed model_index.json cannot describe a pipeline of its kind (core.models.kinds), or None."""
    from core.models.kinds import AUDIOLDM2, COMPONENTS, index_kind

    if not isinstance(index, dict):
        return f"holds {json.dumps(index)[:20]} instead of a table of components"
    components = COMPONENTS[index_kind(index) or AUDIOLDM2]
    absent = [name for name in components if name not in index]
    if absent:
        return f"names no {', '.join(absent)}"
    bad = [name for name in components if not _is_component_spec(index[name])]
    if bad:
        return f"has entries for {', '.join(bad)} that are not [library, class] pairs"
    return None


def _is_component_spec(spec) -> bool:
    return isinstance(spec, list) and len(spec) == 2 and all(s is None or isinstance(s, str) for s in spec)


def weight_problem(path: Path) -> Optional[str]:
    """Why a weight file is unusable (empty, or a safetensors file shorter than its header says), or None."""
    size = path.stat().st_size
    if size == 0:
        return "is empty (0 bytes)"
    if path.suffix != ".safetensors":
        return None
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            return f"is cut short ({size} bytes)"
        header_len = struct.unpack("<Q", head)[0]
        if header_len > size - 8:
            return f"is cut short ({size} bytes, its header alone claims {header_len + 8})"
        try:
            header = json.loads(f.read(header_len))
            end = max((int(t["data_offsets"][1]) for k, t in header.items() if k != "__metadata__"), default=0)
        except (ValueError, KeyError, TypeError, IndexError):
            return "has an unreadable header"
    expected = 8 + header_len + end
    if size < expected:
        return f"is cut short ({size} of {expected} bytes)"
    return None
