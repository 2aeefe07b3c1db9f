"""A min/max overview pyramid for drawing long waveforms fast (pure numpy, Qt-free).

Level k (k >= 1) holds, per channel, the min and max of each block of `base * factor**(k-1)` frames. To draw a
visible range at a given width, `Overview.columns` picks the coarsest level that still has at least one block per
column and merges whole blocks into at most `max_columns` min/max pairs, so the work and the points drawn depend on
the screen width, not on the clip's length. Zoomed in past one frame per column it returns the raw samples.

    overview = Overview(clip.samples)                      # (frames, channels) float32
    view = overview.columns(start_frame, end_frame, 1200)  # ColumnView
    x, y = view.line(channel=0)                            # frame positions and values for one connected line
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ColumnView:
    """What to draw for a range: `starts` (first frame of each column), `mins`/`maxs` shaped (columns, channels).

    `raw` is True when each column is a single sample (mins == maxs == the samples themselves).
    """

    starts: np.ndarray
    mins: np.ndarray
    maxs: np.ndarray
    frames_per_column: int
    raw: bool

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, channel: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """x (frame positions) and y for one polyline: sample by sample when raw, else a min/max zigzag."""
        if self.raw:
            return self.starts.astype(np.float64), self.mins[:, channel].astype(np.float32)
        x = np.repeat(self.starts.astype(np.float64) + self.frames_per_column / 2.0, 2)
        y = np.empty(2 * len(self.starts), dtype=np.float32)
        y[0::2] = self.mins[:, channel]
        y[1::2] = self.maxs[:, channel]
        return x, y


class Overview:
    """Min/max pyramid over `samples` (frames,) or (frames, channels). Building it reads the samples once per
    level on a shrinking array: about 1/base of extra memory in all."""

    def __init__(self, samples: np.ndarray, base: int = 16, factor: int = 4):
        if base < 2 or factor < 2:
            raise ValueError("base and factor must be at least 2")
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[:, None]
        self.samples = samples
        self.frames, self.channels = samples.shape
        self.block_sizes: list[int] = []
        self.mins: list[np.ndarray] = []
        self.maxs: list[np.ndarray] = []
        lo, hi, block = _reduce(samples, samples, base)
        while True:
            self.block_sizes.append(block)
            self.mins.append(lo)
            self.maxs.append(hi)
            if len(lo) <= factor:
                break
            lo, hi, step = _reduce(lo, hi, factor)
            block *= step

    @property
    def levels(self) -> int:
        return len(self.block_sizes)

    def columns(self, start: int, end: int, max_columns: int) -> ColumnView:
        """Min/max columns covering frames [start, end), at most `max_columns` + 2 (partial edges)."""
        if max_columns < 1:
            raise ValueError("max_columns must be at least 1")
        start = int(np.clip(start, 0, self.frames))
        end = int(np.clip(end, start, self.frames))
        span = end - start
        if span <= max_columns:
            part = self.samples[start:end]
            return ColumnView(np.arange(start, end), part, part, 1, raw=True)
        wanted = span / max_columns  # frames per column
        level = max((i for i, size in enumerate(self.block_sizes) if size <= wanted), default=None)
        if level is None:  # zoomed between raw samples and the first level: merge raw frames
            size, lo_src, hi_src = 1, self.samples, self.samples
        else:
            size, lo_src, hi_src = self.block_sizes[level], self.mins[level], self.maxs[level]
        group = max(1, int(np.ceil(wanted / size)))  # source blocks per column: never more columns than asked
        per_column = size * group
        first_block = (start // per_column) * group  # align columns to a fixed grid so scrolling doesn't shimmer
        last_block = min(len(lo_src), -(-end // per_column) * group)  # whole columns only
        lo = lo_src[first_block:last_block]
        hi = hi_src[first_block:last_block]
        lo, hi, _ = _reduce(lo, hi, group)
        starts = first_block * size + per_column * np.arange(len(lo))
        return ColumnView(starts, lo, hi, per_column, raw=False)


def _reduce(lo: np.ndarray, hi: np.ndarray, group: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Merge every `group` rows into one min and one max row; a partial last group is kept."""
    if group == 1:
        return lo, hi, 1
    rows = len(lo)
    whole = rows // group * group
    lo_groups = lo[:whole].reshape(-1, group, lo.shape[1])
    hi_groups = hi[:whole].reshape(-1, group, hi.shape[1])
    # Element-wise min/max across the group is ~3x faster than .min(axis=1) over the short strided axis.
    out_lo = lo_groups[:, 0].copy()
    out_hi = hi_groups[:, 0].copy()
    for i in range(1, group):
        np.minimum(out_lo, lo_groups[:, i], out=out_lo)
        np.maximum(out_hi, hi_groups[:, i], out=out_hi)
    if whole < rows:
        out_lo = np.concatenate([out_lo, lo[whole:].min(axis=0, keepdims=True)])
        out_hi = np.concatenate([out_hi, hi[whole:].max(axis=0, keepdims=True)])
    return out_lo, out_hi, group
