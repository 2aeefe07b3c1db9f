"""The one way the app writes a file: to a hidden temp file in the same folder, flushed, then renamed.

    with atomic_output(path, overwrite=False) as tmp:
        soundfile.write(tmp, samples, rate)          # tmp keeps path's suffix, so the format follows it
    # path now holds the whole new file, or (on any error) is exactly as it was and tmp is gone

    with atomic_outputs([audio, sidecar_of(audio)]) as (tmp_audio, tmp_json):
        ...                                           # both temps written first, then both renamed

A reader never sees a half-written file at the final path: a crash or kill leaves the old file (or none) and at
worst a hidden `.NAME.loa-HOST-PID-TOKEN.tmp.EXT` beside it, which the next write into that folder (or the
next start of the app, for its own folders) removes once that process is gone (core/stale_temps.py). `overwrite=False` lands with `os.link`, so of two processes writing
the same new name exactly one wins whole and the other gets `OutputExists`. Several files land as a set: if one
rename fails the ones already renamed are rolled back (old files restored from hard-link backups). The renames
run in core.signals' critical section (SIGINT/SIGTERM/SIGHUP held), so Ctrl+C lands before any output is
touched or after all of it.
OS errors become one line naming the file ("no space left on device writing X; nothing was changed").

Test seam (documented, inert unless set): LOA_TEST_WRITE_GATE=FOLDER makes each commit create
FOLDER/before-commit.reached and wait for FOLDER/before-commit.release (temps written, nothing renamed; signals
act normally), then after the first rename create FOLDER/mid-commit.reached and wait for
FOLDER/mid-commit.release (signals held). Tests use it to signal a real `loa` process at the write stage
without timing guesses. LOA_TEST_KILL_AT_RENAME=K makes the process SIGKILL itself just before its K-th rename
(tests kill a real `loa` at every rename of a set and check that the next run finds it whole).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from pathlib import Path
from typing import Iterator, Sequence

from core.commit_journal import fsync_dir, prepare, remove_journals, undo_landed, write_journals
from core.output_checks import output_error
from core.signals import deferred
from core.stale_temps import HOST, sweep_folder, temp_path_for
from core.wording import counted

WRITE_GATE_ENV = "LOA_TEST_WRITE_GATE"
KILL_AT_RENAME_ENV = "LOA_TEST_KILL_AT_RENAME"
_renames = 0  # renames this process has made (for the kill seam)
_committed: list[Path] = []  # every file this process has landed, for "cancelled after ..." messages


def cancel_report(since: int = 0) -> str:
    """What a cancellation left (files landed after `commit_count()` was `since`): files only ever land as whole
    sets, so it is all of a set or none of it."""
    landed = committed_files()[since:]
    if not landed:
        return "cancelled; no file was written or changed."
    shown = ", ".join(str(p) for p in landed[:3]) + (f" and {len(landed) - 3} more" if len(landed) > 3 else "")
    return f"cancelled after writing {counted(len(landed), 'complete file')} ({shown}); nothing is half-written."


def commit_count() -> int:
    return len(_committed)


def committed_files() -> list[Path]:
    """The files this process has landed so far (used to say what a cancellation left behind)."""
    return list(_committed)


@contextlib.contextmanager
def atomic_output(path: str | Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temp path to write; on success it replaces (or, without overwrite, newly creates) `path`."""
    with atomic_outputs([path], overwrite=overwrite) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_outputs(paths: Sequence[str | Path], *, overwrite: bool = True) -> Iterator[list[Path]]:
    """Yield one temp path per target; when the block ends without error, all land together or none do."""
    targets = [Path(p) for p in paths]
    if len(set(map(os.path.abspath, targets))) != len(targets):
        raise ValueError(f"the same output path is named twice: {targets}")
    for folder in dict.fromkeys(p.parent for p in targets):
        sweep_folder(folder)  # what a killed writer left here earlier (core/stale_temps.py)
    temps = [temp_path_for(p) for p in targets]
    try:
        try:
            yield temps
            for tmp in temps:
                if os.path.lexists(tmp):
                    _fsync_file(tmp)
        except OSError as exc:
            raise output_error(exc, _target_of(exc, temps, targets)) from exc
        _commit(list(zip(temps, targets)), overwrite)
    finally:
        for tmp in temps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def write_bytes_atomic(path: str | Path, data: bytes, *, overwrite: bool = True) -> Path:
    with atomic_output(path, overwrite=overwrite) as tmp:
        with open(tmp, "xb") as f:
            f.write(data)
    return Path(path)


def write_text_atomic(path: str | Path, text: str, *, overwrite: bool = True, encoding: str = "utf-8") -> Path:
    return write_bytes_atomic(path, text.encode(encoding), overwrite=overwrite)


# ---- internals -------------------------------------------------------------------------------------------


def _target_of(exc: OSError, temps: list[Path], targets: list[Path]) -> Path:
    """The user's name for the file an OSError was about (never the hidden temp name)."""
    name = getattr(exc, "filename", None)
    for tmp, target in zip(temps, targets):
        if name is not None and os.fspath(name) == os.fspath(tmp):
            return target
    return targets[0]


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _folder_locks(folders: set[Path]) -> Iterator[None]:
    """Serialise commits into the same folder across processes (flock on the folder itself, POSIX)."""
    try:
        import fcntl
    except ImportError:  # Windows: renames are still atomic one by one
        yield
        return
    fds = []
    try:
        for folder in sorted(folders):
            try:
                fd = os.open(folder, os.O_RDONLY)
            except OSError:
                continue
            fds.append(fd)
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        for fd in fds:
            os.close(fd)  # closing releases the lock


def _gate(name: str) -> None:
    folder = os.environ.get(WRITE_GATE_ENV)
    if not folder:
        return
    Path(folder, f"{name}.reached").touch()
    release = Path(folder, f"{name}.release")
    deadline = time.monotonic() + 60
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def _kill_point() -> None:
    """Test seam: with LOA_TEST_KILL_AT_RENAME=K this process SIGKILLs itself just before its K-th rename."""
    global _renames
    at = os.environ.get(KILL_AT_RENAME_ENV)
    if not at:
        return
    _renames += 1
    if _renames == int(at):
        os.kill(os.getpid(), signal.SIGKILL)


def _commit(pairs: list[tuple[Path, Path]], overwrite: bool) -> None:
    """Rename every temp over its target. A set of several files is journalled first (core.commit_journal), so a
    kill between the renames is rolled back by the next write into the folder; any error rolls back at once."""
    _gate("before-commit")
    folders = {target.parent.resolve() for _, target in pairs}
    with deferred(), _folder_locks(folders):
        entries: list[dict] = []
        try:
            for tmp, target in pairs:
                try:
                    entries.append(prepare(tmp, target, overwrite, backup=len(pairs) > 1))
                except OSError as exc:
                    raise output_error(exc, target) from exc
            try:
                journals = write_journals(entries, sorted(folders), HOST) if len(pairs) > 1 else []
            except OSError as exc:  # a full disk before anything was renamed: one line, nothing changed
                raise output_error(exc, pairs[0][1]) from exc
            landed: list[dict] = []
            try:
                for i, (tmp, target) in enumerate(pairs):
                    _kill_point()
                    try:
                        _land(tmp, target, overwrite)
                    except OSError as exc:
                        raise output_error(exc, target) from exc
                    landed.append(entries[i])
                    if i == 0:
                        _gate("mid-commit")
            except BaseException:
                undo_landed(landed)
                remove_journals(journals)
                raise
            remove_journals(journals)  # from here on the new set stands
        finally:
            for entry in entries:
                if entry["backup"]:
                    with contextlib.suppress(OSError):
                        os.unlink(entry["backup"])
        for folder in folders:
            fsync_dir(folder)
        _committed.extend(target for _, target in pairs)


def _land(tmp: Path, target: Path, overwrite: bool) -> None:
    if not overwrite:
        try:
            os.link(tmp, target)  # fails with EEXIST if anyone got there first: never replaces
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            if os.path.lexists(target):  # no hard links here (FAT, some network shares): check, then rename
                raise FileExistsError(errno.EEXIST, "exists", str(target)) from exc
            os.rename(tmp, target)
            return
        os.unlink(tmp)
        return
    os.replace(tmp, target)
