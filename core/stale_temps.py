"""Names of the app's hidden temp files, and sweeping the ones a killed writer left behind.

core.fileio writes `.NAME.loa-HOST-PID-TOKEN.tmp.EXT` beside the target and renames it; a `kill -9` (or a power
cut) between the two leaves the temp forever. A temp is stale when its writer cannot still be writing it:
written on this machine by a process that no longer runs, or (another machine on a shared folder, or a PID
since reused) last modified more than a day ago. Only names matching this exact pattern are ever removed, and
only regular files: a user's own `.x.tmp.wav` stays.

    sweep_folder(folder)          # one folder, not recursive; done by every write into it (at most once a minute);
                                  # first rolls back the half-landed set of a killed writer (core.commit_journal)
    sweep_app_folders()           # the app's own folders, recursively: studio and CLI start-up
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import stat
import threading
import time
from pathlib import Path
from typing import Iterable, Optional

STALE_AFTER_SECONDS = 24 * 3600  # whoever wrote it, a temp this old is not being written any more
RESWEEP_SECONDS = 60.0  # a folder written to again within this is not scanned again by this process


def _pid_space() -> str:
    """This machine and PID namespace: a PID says whether its writer runs only where the same PIDs are seen
    (a Flatpak or container sharing a folder with the host has the host's name but its own PIDs)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}|{namespace}"


_HOST = hashlib.sha1(_pid_space().encode("utf-8", "replace")).hexdigest()[:6]
HOST = _HOST  # this machine's (and PID namespace's) tag in temp and journal names
TEMP_PATTERN = re.compile(r"^\..+\.loa-(?P<host>[0-9a-f]{6})-(?P<pid>[0-9]{1,10})-[0-9a-f]{8}\.tmp(\.[^./]{1,15})?$")
PROBE_PATTERN = re.compile(r"^\.loa-write-test\.(?P<host>[0-9a-f]{6})-(?P<pid>[0-9]{1,10})-[0-9a-f]{8}$")
# Before hosts were named: `.NAME.PID-TOKEN.tmp.EXT`. Without the host tag the PID proves nothing: age only.
LEGACY_PATTERN = re.compile(r"^(\..+\.[0-9]{1,10}-[0-9a-f]{8}\.tmp(\.[^./]{1,15})?|\.loa-write-test\.[0-9]{1,10}-[0-9a-f]{8})$")

_swept: dict[str, float] = {}
_swept_lock = threading.Lock()


def temp_path_for(path: Path) -> Path:
    """A hidden, unique name in the same folder that keeps the suffix (soundfile picks the format from it)."""
    suffix = path.suffix if len(os.fsencode(path.suffix)) <= 16 else ""
    # At most 80 bytes of the name (not characters: 80 CJK characters are 240 bytes, and the temp of a name the
    # file system accepts must fit its 255-byte limit too).
    stem = path.name[:80]
    while len(os.fsencode(stem)) > 80:
        stem = stem[:-1]
    return path.with_name(f".{stem}.loa-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.tmp{suffix}")


def probe_path_in(folder: Path) -> Path:
    """The throw-away file check_output_paths creates to test that a folder is writable."""
    return folder / f".loa-write-test.{_HOST}-{os.getpid()}-{secrets.token_hex(4)}"


def is_stale(path: Path, now: Optional[float] = None, pattern: Optional[re.Pattern] = None) -> bool:
    """True only for a regular file named like our temps whose writer cannot still be writing it."""
    name = path.name
    match = pattern.match(name) if pattern is not None else TEMP_PATTERN.match(name) or PROBE_PATTERN.match(name)
    if pattern is not None and match is None:
        return False
    if match is None and LEGACY_PATTERN.match(name) is None:
        return False
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False  # never a folder, a link or a device, whatever its name
    age = (time.time() if now is None else now) - info.st_mtime
    if age > STALE_AFTER_SECONDS:
        return True
    if match is None or match["host"] != _HOST:
        return False  # a legacy name, or another machine's (or container's) writer: only age tells
    pid = int(match["pid"])
    return pid != os.getpid() and not _pid_alive(pid)


def sweep_folder(folder: str | Path, *, force: bool = False) -> list[Path]:
    """Remove the stale temps directly inside `folder`; return them. Never raises: housekeeping only."""
    folder = Path(folder)
    key = os.path.abspath(folder)
    now = time.monotonic()
    with _swept_lock:
        if not force and now - _swept.get(key, -RESWEEP_SECONDS) < RESWEEP_SECONDS:
            return []
        _swept[key] = now
    removed = []
    try:
        with os.scandir(folder) as entries:
            names = [entry.name for entry in entries if entry.name.startswith(".")]
    except OSError:
        return removed
    from core.commit_journal import JOURNAL_PATTERN, roll_back

    for name in names:  # first, sets a killed writer left half-renamed go back to what they were
        if is_stale(folder / name, pattern=JOURNAL_PATTERN):
            roll_back(folder / name)
    for name in names:
        path = folder / name
        if is_stale(path):
            try:
                os.unlink(path)
            except OSError:
                continue
            removed.append(path)
    return removed


def sweep_tree(root: str | Path) -> list[Path]:
    """sweep_folder on `root` and every folder below it (links to folders are not followed)."""
    removed: list[Path] = []
    if not os.path.isdir(root):
        return removed
    for folder, _, _ in os.walk(root, onerror=lambda exc: None):
        removed += sweep_folder(folder, force=True)
    return removed


def sweep_app_folders(roots: Optional[Iterable[Path]] = None) -> list[Path]:
    """The start-up sweep: the app's data (library audio, pads, sessions, edit histories, recordings), settings
    and cache folders. Folders that do not exist yet are not created."""
    if roots is None:
        from core.paths import app_folders

        roots = app_folders()
    removed: list[Path] = []
    for root in dict.fromkeys(Path(r) for r in roots):
        removed += sweep_tree(root)
    return removed


def sweep_app_folders_in_background() -> threading.Thread:
    thread = threading.Thread(target=sweep_app_folders, name="stale-temp-sweep", daemon=True)
    thread.start()
    return thread


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return True  # not a real writer's PID: leave it to the age rule
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:
        return True  # someone else's live process (or unknown): keep
