"""Landing a set of files whole, even under `kill -9`: each target's entry (prepare: checks and a hard-link backup),
the journal written before the renames, and undoing a set (at once on an error, or after a kill by the next sweep).

core.fileio lands a set (audio + sidecar, or every candidate of a take) by renaming temps over the targets one
by one. Before the first rename it writes, fsyncs and names in each target folder a journal
`.loa-commit.HOST-PID-TOKEN.journal` listing every target, its temp (and the temp's inode) and a hard-link
backup of the file it replaces. After the last rename the journal is removed. A process killed in between leaves
the journal; the next write into that folder (core.stale_temps.sweep_folder, run by every write, by
`loa batch` and by a script's resume before they read the folder) finds it, sees that its writer is gone and
rolls the set back: each replaced file is restored from its backup, each new file removed. So after a kill each
name holds the complete old set, and the next run writes the new one whole.

Limits: where hard links are impossible (FAT, some network shares) there is no backup of a replaced file and
that file keeps the new take; the other names are still rolled back.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
from pathlib import Path
from typing import Optional, Sequence

from core.stale_temps import temp_path_for

JOURNAL_PATTERN = re.compile(r"^\.loa-commit\.(?P<host>[0-9a-f]{6})-(?P<pid>[0-9]{1,10})-[0-9a-f]{8}\.journal$")


def journal_name(host: str) -> str:
    return f".loa-commit.{host}-{os.getpid()}-{secrets.token_hex(4)}.journal"


def write_journals(entries: Sequence[dict], folders: Sequence[Path], host: str) -> list[Path]:
    """Write (and fsync, file and folder) one journal per folder; return their paths. `entries`: dicts with
    target, tmp, tmp_inode and backup (None when the target did not exist, or could not be linked)."""
    data = json.dumps({"loa_commit": 1, "entries": list(entries)}).encode("utf-8")
    name = journal_name(host)
    written = []
    try:
        for folder in folders:
            path = Path(folder) / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            written.append(path)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            fsync_dir(Path(folder))
    except BaseException:
        remove_journals(written)
        raise
    return written


def remove_journals(paths: Sequence[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)
    for folder in dict.fromkeys(Path(p).parent for p in paths):
        fsync_dir(folder)


def prepare(tmp: Path, target: Path, overwrite: bool, backup: bool) -> dict:
    """Check the target can be replaced and (for a set) hard-link a backup of the file it replaces."""
    existed = os.path.lexists(target)
    if overwrite and existed:
        if os.path.isdir(target):
            raise IsADirectoryError(errno.EISDIR, "is a folder", str(target))
        if os.path.exists(target) and not os.path.isfile(target):  # never replace /dev/null or a FIFO by a file
            raise PermissionError(errno.EPERM, "not a regular file", str(target))
    saved = None
    if overwrite and existed and backup:
        saved = temp_path_for(target)
        try:
            os.link(target, saved, follow_symlinks=False)
        except OSError:
            saved = None  # no hard links here: each single rename is still atomic
    return {"target": str(target), "tmp": str(tmp), "tmp_inode": inode_of(tmp), "existed": existed,
            "backup": str(saved) if saved else None}


def undo_landed(landed: list[dict]) -> None:
    """Put back what this commit replaced (from its backups) and remove the names it created."""
    for entry in reversed(landed):
        with contextlib.suppress(OSError):
            if entry["backup"]:
                os.replace(entry["backup"], entry["target"])
            elif not entry["existed"]:
                os.unlink(entry["target"])
            # replaced without a backup (no hard links): the new whole file stays


def roll_back(journal: Path) -> list[Path]:
    """Undo the set a dead writer was landing; return the targets put back. Removes the journal."""
    try:
        entries = json.loads(journal.read_bytes().decode("utf-8"))["entries"]
    except (OSError, ValueError, KeyError, TypeError):
        entries = []  # torn: the writer died writing it, before any rename
    restored = []
    for entry in reversed(entries if isinstance(entries, list) else []):
        with contextlib.suppress(OSError, KeyError, TypeError):
            if _undo(entry):
                restored.append(Path(entry["target"]))
    with contextlib.suppress(OSError):
        os.unlink(journal)
    fsync_dir(journal.parent)
    return restored


def _undo(entry: dict) -> bool:
    target, tmp, backup = entry["target"], entry["tmp"], entry.get("backup")
    landed = inode_of(target) == entry.get("tmp_inode") and entry.get("tmp_inode") is not None
    with contextlib.suppress(OSError):
        os.unlink(tmp)  # not renamed yet (or a link of the landed file, for new names)
    if backup and os.path.lexists(backup):
        if landed or inode_of(target) == inode_of(backup):
            os.replace(backup, target)  # the old file back under its name
            return True
        os.unlink(backup)  # the target has changed since (not by this writer): leave it
        return False
    if landed and not entry.get("existed"):
        os.unlink(target)  # a new name of the unfinished set
        return True
    return False


def inode_of(path: str | Path) -> Optional[list[int]]:
    """[device, inode] (a list, as it reads back from JSON), or None when there is no such file."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    return [info.st_dev, info.st_ino]



def fsync_dir(folder: Path) -> None:
    """Make a folder's new, renamed and removed names durable (where the platform can open a folder)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
