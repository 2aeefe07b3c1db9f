"""What every benchmark does with its result: the JSON on stdout and, with --out, the same JSON in a file,
written atomically (a run killed while writing never leaves half a report where an earlier one was)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional


def print_and_save(report: dict[str, Any], out: Optional[Path]) -> str:
    """Print `report` as indented JSON; with `out`, also write it there (folders made). Returns the text."""
    text = json.dumps(report, indent=2)
    print(text)
    if out:
        from core.fileio import write_text_atomic

        Path(out).parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out, text + "\n")
    return text
