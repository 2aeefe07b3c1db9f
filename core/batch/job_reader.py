"""Reading a job file's rows: CSV or JSON Lines (told apart by suffix and content) into (line, {column: value}),
column names folded to the settings' names (any case, aliases). Nothing here checks a value: core.batch.jobs does.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError

ALIASES = {"negative_prompt": "negative", "pattern": "output", "name": "output", "variations": "count",
           "text": "words", "transcription": "words"}


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str
    missing_model: bool = False  # a known model that is not installed (exit 3 when it is the only problem)

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


def file_kind(path: Path, text: str) -> tuple[str, list[str]]:
    """"jsonl" or "csv", from the suffix and the content; a note when they disagree. A JSON array (a .json file
    holding one list) is refused: the rows must be one JSON object per line."""
    suffix = path.suffix.lower()
    first = next((line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")),
                 "")
    if first.startswith("["):
        raise InputError(f"{path} holds a JSON array; write one JSON object per line instead (JSON Lines, e.g. "
                         "{\"prompt\": \"rain\", \"seconds\": 5}) and name it .jsonl, or use CSV.")
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl", []
    if first.startswith("{"):
        named = "" if suffix == ".json" else f", though its name ends in {suffix or 'no extension'}"
        return "jsonl", [f"read as JSON Lines (one JSON object per line), as its first row is a JSON object{named}"]
    if suffix == ".json":
        raise InputError(f"{path} ends in .json but does not hold JSON objects; write one JSON object per line "
                         "(JSON Lines, .jsonl), or save it as .csv.")
    return "csv", []


def listed(names: list[str], noun: str) -> str:
    return f"{noun}{'s' if len(names) > 1 else ''} {', '.join(names)}"


def csv_rows(text: str, path: Path) -> tuple[list[tuple[int, dict]], list[RowError]]:
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return [], []
    names = [_column(h) for h in header]
    rows, errors, start = [], [], reader.line_num + 1
    for name in dict.fromkeys(n for n in names if n and names.count(n) > 1):  # a whole-file fault: no row is good
        given = [f"{header[i].strip()!r} (column {i + 1})" for i, n in enumerate(names) if n == name]
        raise InputError(f"{path}, line 1: {' and '.join(given)} both name the {name} column, so it is not "
                         "clear which to use; keep one.")
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
            continue
        if len(cells) > len(names):
            errors.append(RowError(line, "row", f"{len(cells)} cells but the header names {len(names)} columns "
                                                "(quote a value that holds a comma)"))
            continue
        rows.append((line, {n: c for n, c in zip(names, cells) if n}))
    if "prompt" not in names and "words" not in names and "source" not in names:
        errors.append(RowError(1, "header", "no prompt column; the first line must name the columns, "
                                            "e.g. prompt,seconds,count,output"))
    return rows, errors


def jsonl_rows(text: str) -> tuple[list[tuple[int, dict]], list[RowError]]:
    rows, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            value = json.loads(line, object_pairs_hook=_Pairs)
        except ValueError as exc:
            errors.append(RowError(number, "row", f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(value, _Pairs):
            errors.append(RowError(number, "row", "each line must be a JSON object like {\"prompt\": \"rain\"}"))
            continue
        names = [_column(k) for k, _ in value]
        twice = [k for k, _ in value if names.count(_column(k)) > 1]
        if twice:
            errors.append(RowError(number, "row", f"{' and '.join(map(repr, twice))} name the same field "
                                                  f"({_column(twice[0])}); keep one"))
            continue
        rows.append((number, {_column(k): _plain(v) for k, v in value}))
    return rows, errors


class _Pairs(list):
    """A JSON object as read: its (key, value) pairs in order, duplicate keys included."""


def _plain(value):
    """A JSON value read with pairs kept back as plain dicts and lists."""
    if isinstance(value, _Pairs):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _column(name: str) -> str:
    key = str(name).strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(key, key)
