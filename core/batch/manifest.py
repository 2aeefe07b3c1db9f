"""OUT/manifest.jsonl: one JSON record per rendered file, appended and fsync'ed after the file has landed.

A file counts as done only when its record is there, names the same render key (the row's settings and seed)
and the file's sha256 matches. A torn last line (a kill mid-append) is ignored; `compact` rewrites the manifest
atomically keeping one record per file that is still done, so appends never produce two records for a file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Iterable

from core.fileio import write_text_atomic

MANIFEST = "manifest.jsonl"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(out: Path) -> dict[str, dict]:
    """The last well-formed record per relative path."""
    records: dict[str, dict] = {}
    try:
        lines = (out / MANIFEST).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return records
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line torn by a kill: its file is re-rendered
        if isinstance(record, dict) and isinstance(record.get("path"), str):
            records[record["path"]] = record
    return records


def is_done(out: Path, record: dict | None, key: str) -> bool:
    if not record or record.get("render_key") != key:
        return False
    path = out / record["path"]
    try:
        return path.is_file() and (out / (record["path"] + ".json")).is_file() and \
            file_sha256(path) == record.get("sha256")
    except OSError:
        return False


def compact(out: Path, keep: Iterable[dict]) -> None:
    """Rewrite the manifest holding exactly `keep` (atomically)."""
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in keep)
    path = out / MANIFEST
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except FileNotFoundError:
        if not text:
            return
    write_text_atomic(path, text)


def append(out: Path, record: dict) -> None:
    """Append one record and fsync it before returning (the file it names has already landed)."""
    line = json.dumps(record, sort_keys=True) + "\n"
    fd = os.open(out / MANIFEST, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
