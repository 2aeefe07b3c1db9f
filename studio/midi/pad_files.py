"""Durable audio for pads: a take that lives only in memory (a candidate not stored in the library) or in a file the
app may delete (a drag-out file under the cache, purged after a week) is copied to <data>/pads when it is put on a
pad, so the pad still holds it after a restart. Files no pad uses any more are removed when the kit is saved.

    path = durable_pad_file(clip, "metal door slam")   # <data>/pads/metal-door-slam-<hash>.wav (atomic, float)
    is_transient(path)                                 # True for files under the cache folder
    prune_pad_files({path, ...})                       # remove the other files of <data>/pads
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Iterable

import numpy as np

from core.audio.clip import Clip, save_clip
from core.paths import cache_dir, data_dir


def pads_folder() -> Path:
    folder = data_dir() / "pads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def is_transient(path: Path) -> bool:
    """A file the app itself may delete later (drag-out renders and other cache files)."""
    try:
        return Path(path).resolve().is_relative_to(cache_dir().resolve())
    except OSError:
        return False


def durable_pad_file(clip: Clip, label: str) -> Path:
    """The clip saved under <data>/pads (float WAV, its own rate); the same audio gives the same file."""
    digest = hashlib.sha1(np.ascontiguousarray(clip.samples, dtype=np.float32).tobytes())
    digest.update(str(clip.sample_rate).encode())
    stem = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40] or "take"
    path = pads_folder() / f"{stem}-{digest.hexdigest()[:12]}.wav"
    if not path.exists():
        save_clip(clip, path, subtype="float32")
    return path


def prune_pad_files(in_use: Iterable[str | Path]) -> None:
    """Remove the files of <data>/pads that no pad holds (a pad reassigned or cleared)."""
    folder = data_dir() / "pads"
    if not folder.is_dir():
        return
    keep = {Path(p).resolve() for p in in_use if p}
    for path in folder.glob("*.wav"):
        if path.resolve() not in keep:
            path.unlink(missing_ok=True)
