"""Whole-clip sample work split across the machine's cores.

numpy releases the GIL inside a ufunc on a large array, so a long fade, gain or copy split into one contiguous
range per core runs on all of them; each range is walked in cache-sized pieces so temporaries (fade gains)
stay small. Short ranges run on the calling thread.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

PIECE_FRAMES = 1 << 16  # frames per piece: a stereo float32 piece is 512 KB
PARALLEL_MIN_FRAMES = 1 << 20  # below this, threads cost more than they save

_pool: ThreadPoolExecutor | None = None


def workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def _shared_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(workers(), thread_name_prefix="edit-chunks")
    return _pool


def for_pieces(start: int, stop: int, work: Callable[[int, int], None]) -> None:
    """Call work(a, b) for consecutive pieces [a, b) covering [start, stop), spread over the cores."""
    if stop <= start:
        return
    def run(lo: int, hi: int) -> None:
        for a in range(lo, hi, PIECE_FRAMES):
            work(a, min(hi, a + PIECE_FRAMES))
    count = workers() if stop - start >= PARALLEL_MIN_FRAMES else 1
    if count == 1:
        run(start, stop)
        return
    bounds = np.linspace(start, stop, count + 1).astype(np.int64)
    futures = [_shared_pool().submit(run, int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]
    for future in futures:
        future.result()  # re-raises a piece's error here


def copy_frames(dest: np.ndarray, src: np.ndarray) -> None:
    """dest[:] = src for two equally shaped arrays, on all cores when long."""
    for_pieces(0, src.shape[0], lambda a, b: np.copyto(dest[a:b], src[a:b]))


def scale_frames(dest: np.ndarray, src: np.ndarray, gains: Callable[[int, int], np.ndarray] | np.float32) -> None:
    """dest = src * gain: a float32 scalar, or per-frame float32 gains(a, b) for frames [a, b). Per-frame
    gains are interleaved to the channels so the multiply runs over flat contiguous memory (broadcasting a
    (frames, 1) column over 2 channels is several times slower)."""
    channels = src.shape[1]
    flat_ok = src.flags.c_contiguous and dest.flags.c_contiguous

    def work(a: int, b: int) -> None:
        g = gains if isinstance(gains, np.floating) else gains(a, b)
        if isinstance(g, np.floating) or channels == 1:
            np.multiply(src[a:b], g if isinstance(g, np.floating) else g[:, None], out=dest[a:b])
        elif flat_ok:
            np.multiply(src[a:b].reshape(-1), np.repeat(g, channels), out=dest[a:b].reshape(-1))
        else:
            np.multiply(src[a:b], g[:, None], out=dest[a:b])
    for_pieces(0, src.shape[0], work)


def join_frames(parts: list[np.ndarray]) -> np.ndarray:
    """np.concatenate(parts) along frames, copied on all cores when long."""
    out = np.empty((sum(p.shape[0] for p in parts),) + parts[0].shape[1:], np.result_type(*parts))
    pos = 0
    for part in parts:
        copy_frames(out[pos:pos + part.shape[0]], part)
        pos += part.shape[0]
    return out
