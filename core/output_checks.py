"""Output paths checked before any work (the folder exists or can be made and is writable, the name fits, an input
is never a target, an existing file only with --overwrite), and the one-line errors that name the file a write
could not land (core.fileio raises them).
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Sequence

from core.errors import InputError
from core.stale_temps import probe_path_in, sweep_folder


class OutputError(InputError):
    """A file cannot be written where the user asked (full disk, read-only, not a folder...). Exit code 2."""


class OutputExists(OutputError):
    """The target exists and replacing it was not allowed."""

    def __init__(self, path: Path, hint: str = "pass --overwrite to replace it, or choose another name") -> None:
        self.path = Path(path)
        super().__init__(f"{path} already exists; nothing was changed ({hint}).")


_REASONS = {
    errno.ENOSPC: "no space left on device writing {path}",
    errno.EDQUOT: "disk quota exceeded writing {path}",
    errno.EFBIG: "file too large for this file system writing {path}",
    errno.EROFS: "{path} is on a read-only file system",
    errno.EACCES: "no permission to write {path}",
    errno.EPERM: "not permitted to write {path}",
    errno.ENAMETOOLONG: "file name too long: {path}",
    errno.EISDIR: "{path} is a folder, not a file name",
    errno.ENOTDIR: "a part of {path}'s folder path is a file, not a folder",
    errno.ENOENT: "the folder of {path} does not exist",
    errno.EIO: "input/output error writing {path}",
    errno.ELOOP: "the folder path of {path} is a loop of symbolic links",
}


def describe_os_error(exc: OSError, path: str | Path) -> str:
    """One line naming the file and what went wrong, ending in "nothing was changed"."""
    reason = _REASONS.get(exc.errno)
    text = reason.format(path=path) if reason else f"cannot write {path} ({exc.strerror or exc})"
    return f"{text}; nothing was changed."


def output_error(exc: OSError, path: str | Path) -> OutputError:
    if exc.errno == errno.EEXIST:
        return OutputExists(Path(path))
    return OutputError(describe_os_error(exc, path))


def check_output_paths(paths: Sequence[str | Path], *, overwrite: bool = False,
                       inputs: Sequence[str | Path] = ()) -> list[Path]:
    """Before any work: each path can be written (folder exists or can be made, is writable, name fits), is not
    one of `inputs` (never, whatever `overwrite` says) and, unless `overwrite`, does not exist yet.

    Raises OutputError / OutputExists with one line naming the path. Creates nothing that stays behind.
    """
    checked = []
    for folder in dict.fromkeys(Path(p).parent for p in paths):
        if folder.is_dir():
            sweep_folder(folder)  # a set a killed writer left half-landed goes back first (core.commit_journal)
    for path in map(Path, paths):
        for source in inputs:
            if _same_file(path, Path(source)):
                raise OutputError(f"refusing to write over the input {source}; choose another output name "
                                  "(your recording is never replaced, even with --overwrite).")
        _check_folder_path(path)
        _check_name_length(path, _nearest_existing(path.parent))
        if path.is_dir():
            raise OutputError(f"{path} is a folder, not a file name; give a file inside it, e.g. "
                              f"{path / 'take.wav'}.")
        if not path.name or path.name in (".", ".."):
            raise OutputError(f"{path} does not name a file; give a file name such as take.wav.")
        folder = _nearest_existing(path.parent)
        if not folder.is_dir():
            raise OutputError(f"cannot write {path}: {folder} is a file, not a folder; choose another folder.")
        _probe_folder(folder, path)
        if os.path.exists(path) and not os.path.isfile(path):
            raise OutputError(f"{path} is not a regular file (a device, pipe or socket); give a file name.")
        if not overwrite and os.path.lexists(path):
            raise OutputExists(path)
        checked.append(path)
    return checked


def _same_file(a: Path, b: Path) -> bool:
    if len(os.fsencode(a.name)) > 255:
        return False
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)  # hard links, case-insensitive file systems
    except OSError:
        return False


def _nearest_existing(folder: Path) -> Path:
    folder = Path(os.path.abspath(folder))
    while not os.path.lexists(folder) and folder.parent != folder:
        folder = folder.parent
    return folder


def _check_folder_path(path: Path) -> None:
    """The nearest existing folder of `path` can be looked up: a loop of symbolic links (or a link into a folder
    we may not enter) is named as such, not reported as "a file, not a folder" or a RuntimeError later."""
    folder = _nearest_existing(path.parent)
    try:
        os.stat(folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(f"cannot write {path}: {folder} is a loop of symbolic links (a link that leads back "
                              "to itself); choose another folder.") from None
        if exc.errno == errno.ENOENT and os.path.islink(folder):
            raise OutputError(f"cannot write {path}: {folder} is a symbolic link to nothing (its target "
                              f"{os.readlink(folder)} does not exist); create the target or choose another "
                              "folder.") from None
        raise OutputError(f"cannot write {path}: {folder} cannot be opened "
                          f"({(exc.strerror or str(exc)).lower()}); choose another folder.") from None


def _check_name_length(path: Path, folder: Path) -> None:
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    longest = max(len(os.fsencode(part)) for part in path.parts) if path.parts else 0
    if longest > limit:
        raise OutputError(f"file name too long ({longest} bytes, this file system allows {limit}): "
                          f"{path.name[:40]}...; choose a shorter name.")


def _probe_folder(folder: Path, path: Path) -> None:
    """Create and remove a hidden file in the folder: the only honest test of writability (root, ACLs, ro mounts)."""
    probe = probe_path_in(folder)
    try:
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError as exc:
        reason = _REASONS.get(exc.errno, "cannot write {path} (%s)" % (exc.strerror or exc))
        if exc.errno == errno.ENOENT:
            reason = "cannot create files in the folder of {path}"
        raise OutputError(reason.format(path=path) + "; choose another folder.") from exc
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
