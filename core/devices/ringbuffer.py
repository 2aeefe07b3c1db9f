"""A single-producer, single-consumer ring buffer of audio frames: the audio callback writes, a drain reads.

The callback must never block, allocate much or wait for the GUI, so it only copies a block into a
preallocated array and advances a counter. The consumer (a GUI timer, or a thread in core) reads whatever
has arrived. Two monotonic counters do the bookkeeping: the producer alone advances `_written`, the consumer
alone advances `_read`, each after its copy, so neither needs a lock (one int store is atomic in CPython).

When the consumer falls behind by more than the capacity, new frames are dropped (never the old ones, which
the consumer may be copying) and counted in `dropped_frames`, so the caller can say so.
"""

from __future__ import annotations

import numpy as np


class RingBuffer:
    def __init__(self, capacity_frames: int, channels: int) -> None:
        if capacity_frames <= 0 or channels <= 0:
            raise ValueError("a ring buffer needs a positive capacity and channel count")
        self.capacity = int(capacity_frames)
        self.channels = int(channels)
        self._data = np.zeros((self.capacity, self.channels), dtype=np.float32)
        self._written = 0  # frames ever written (producer only)
        self._read = 0     # frames ever read (consumer only)
        self.dropped_frames = 0  # producer only

    @property
    def available(self) -> int:
        """Frames written and not read yet."""
        return self._written - self._read

    @property
    def total_written(self) -> int:
        return self._written

    def write(self, block: np.ndarray) -> int:
        """Copy `block` (frames, channels) in; return the frames stored. Never blocks (producer side)."""
        frames = len(block)
        free = self.capacity - (self._written - self._read)
        count = min(frames, free)
        if count < frames:
            self.dropped_frames += frames - count
        if count <= 0:
            return 0
        start = self._written % self.capacity
        first = min(count, self.capacity - start)
        self._data[start:start + first] = block[:first]
        if count > first:
            self._data[:count - first] = block[first:count]
        self._written += count  # publish only after the copy
        return count

    def read(self, max_frames: int | None = None) -> np.ndarray:
        """Every available frame (or at most `max_frames`) as a new array (consumer side)."""
        count = self.available if max_frames is None else min(self.available, max_frames)
        if count <= 0:
            return np.zeros((0, self.channels), dtype=np.float32)
        start = self._read % self.capacity
        first = min(count, self.capacity - start)
        out = np.empty((count, self.channels), dtype=np.float32)
        out[:first] = self._data[start:start + first]
        if count > first:
            out[first:] = self._data[:count - first]
        self._read += count  # free the space only after the copy
        return out
