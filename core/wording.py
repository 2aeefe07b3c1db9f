"""Counted nouns in messages: "1 bad row", "3 bad rows", never "row(s)"."""

from __future__ import annotations

from typing import Optional


def counted(count: int, noun: str, plural: Optional[str] = None) -> str:
    """`count` and the noun in the right number; `plural` for nouns that do not just add an s."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
