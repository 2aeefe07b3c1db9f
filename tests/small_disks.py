"""Real small and read-only file systems for the disk-error tests: a tmpfs mounted on a folder (root only; a
process that may not mount skips, and tests/test_fileio.py covers full-disk errors for any user by RLIMIT_FSIZE)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest


@contextlib.contextmanager
def mounted_tmpfs(folder: Path, size: str = "64k", read_only: bool = False) -> Iterator[Path]:
    """`folder` (made if missing) as a tmpfs of `size` for the block, unmounted after it."""
    folder.mkdir(parents=True, exist_ok=True)
    options = f"{'ro,' if read_only else ''}size={size}"
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                                           capture_output=True).returncode:
        pytest.skip(f"mounting a {size} {'read-only ' if read_only else ''}tmpfs needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path, leave: int = 0) -> None:
    """Fill the file system under `folder`, leaving about `leave` bytes."""
    fd = os.open(folder / "ballast", os.O_CREAT | os.O_WRONLY)
    try:
        while os.write(fd, b"\0" * 1024):
            pass
    except OSError:
        pass
    if leave:
        os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave))
    os.close(fd)
