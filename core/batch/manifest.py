"""OUT/manifest.jsonl: LOA's record of the files a batch wrote into OUT, one JSON line per file.

The first line is a header ({"loa_batch_manifest": 1, ...}) that marks the file as ours; a manifest.jsonl
without it (a data set's manifest, say) is refused with one line and never rewritten. (A headerless file whose
every record is one of ours, from before the header existed, is still taken as ours.)

    {"claim": "kick.wav"}                     appended and fsync'ed *before* a file is written: from then on
                                              LOA may replace that name (a kill after the file landed but
                                              before its record leaves a file that is still known to be ours)
    {"path": "kick.wav", "sha256": ..., ...}  appended and fsync'ed after the file has landed
    {"released": "kick.wav"}                  the write was refused (someone else's file appeared): not ours

A file counts as done only when its record is there, names the same render key (the row's settings and seed)
and the file's sha256 matches. A torn last line (a kill mid-append, even inside a UTF-8 character) is skipped
and its file re-rendered; `compact` rewrites the manifest atomically with one record per file, so appends never
produce two records for a file. A file that is in the folder but neither recorded nor claimed is not ours: it
is never replaced without --overwrite (core.batch.plan).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from core.errors import InputError
from core.fileio import write_text_atomic
from core.output_checks import OutputError, describe_os_error

MANIFEST = "manifest.jsonl"
HEADER_KEY = "loa_batch_manifest"
HEADER = {HEADER_KEY: 1, "about": "written by `loa batch`: one record per file it rendered into this folder"}
RECORD_KEYS = ("path", "render_key", "sha256")  # what every record of ours holds (headerless manifests)


@dataclass
class Manifest:
    records: dict[str, dict] = field(default_factory=dict)  # the last well-formed record per relative path
    claimed: set[str] = field(default_factory=set)  # every path LOA wrote or was about to write here

    def get(self, rel: str) -> dict | None:
        return self.records.get(rel)

    def owns(self, rel: str) -> bool:
        return rel in self.claimed


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(out: Path) -> Manifest:
    """Read OUT/manifest.jsonl. Raises InputError (one line) when it is not ours, is a folder or cannot be read."""
    path = Path(out) / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Manifest()
    except IsADirectoryError:
        raise OutputError(f"{path} is a folder, not LOA's batch manifest; move it away or choose another --out "
                          "folder.") from None
    except NotADirectoryError:
        raise InputError(f"--out {out} is a file, not a folder; name a folder (it is made if missing).") from None
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror or exc}; nothing was changed.") from None
    parsed = []
    for raw in data.split(b"\n"):
        try:
            value = json.loads(raw.decode("utf-8"))
        except ValueError:  # a line torn by a kill (UnicodeDecodeError is a ValueError too): re-rendered
            continue
        if isinstance(value, dict):
            parsed.append(value)
    if data.strip() and not _ours(parsed):
        raise InputError(f"{path} is not a LOA batch manifest (it has no LOA header); it was left as it is. "
                         "Choose another --out folder, or move that file away.")
    manifest = Manifest()
    for record in parsed:
        for key in ("claim", "released", "path"):
            if not isinstance(record.get(key), str):
                continue
            if key == "released":
                manifest.claimed.discard(record[key])
            else:
                manifest.claimed.add(record[key])
            if key == "path":
                manifest.records[record["path"]] = record
            break
    return manifest


def _ours(parsed: list[dict]) -> bool:
    if parsed and parsed[0].get(HEADER_KEY) == 1:
        return True
    return bool(parsed) and all(all(k in r for k in RECORD_KEYS) or "claim" in r for r in parsed)


def is_done(out: Path, record: dict | None, key: str) -> bool:
    if not record or record.get("render_key") != key:
        return False
    path = out / record["path"]
    try:
        return path.is_file() and (out / (record["path"] + ".json")).is_file() and \
            file_sha256(path) == record.get("sha256")
    except OSError:
        return False


def compact(out: Path, keep: Iterable[dict], claims: Iterable[str] = ()) -> None:
    """Rewrite the manifest (atomically): the header, exactly `keep`, and a claim for each of `claims`."""
    lines = [HEADER, *keep, *({"claim": rel} for rel in sorted(set(claims)))]
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in lines)
    path = out / MANIFEST
    try:
        if path.read_bytes() == text.encode("utf-8"):
            return
    except FileNotFoundError:
        pass
    write_text_atomic(path, text)


def tidy(out: Path) -> None:
    """After a run (under its lock): the last record per file still there, a claim only for files without one."""
    found = read_manifest(out)
    keep = [record for rel, record in found.records.items() if (out / rel).is_file()]
    claims = [rel for rel in found.claimed - found.records.keys()
              if os.path.lexists(out / rel) or os.path.lexists(out / (rel + ".json"))]
    compact(out, keep, claims)


def claim(out: Path, rel: str) -> None:
    """Mark `rel` as ours before it is written (fsync'ed)."""
    append(out, {"claim": rel})


def release(out: Path, rel: str) -> None:
    append(out, {"released": rel})


def append(out: Path, record: dict) -> None:
    """Append one line and fsync it before returning. A torn line left by a killed or failed append is closed
    first, so it never swallows this one. A full disk is one line naming the manifest (OutputError)."""
    line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
    path = out / MANIFEST
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            view = memoryview(line)
            while view:  # a short write is retried: the next one reports why (ENOSPC, EFBIG...)
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        reason = describe_os_error(exc, path).removesuffix("nothing was changed.")
        raise OutputError(f"{reason}the files written so far are kept; run the same command again to finish.") \
            from None
