"""Selections (frame ranges; empty = a cursor), edit results, and snapping edges to zero crossings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from core.audio.clip import Clip


@dataclass(frozen=True)
class Selection:
    """Frames [start, end) of a clip; start == end is a cursor (nothing selected) at `start`."""

    start: int = 0
    end: int = 0

    def __post_init__(self) -> None:
        start, end = int(self.start), int(self.end)
        if end < start:
            start, end = end, start  # a drag from right to left selects the same range
        object.__setattr__(self, "start", max(0, start))
        object.__setattr__(self, "end", max(0, end))

    @classmethod
    def cursor(cls, frame: int) -> "Selection":
        return cls(frame, frame)

    @classmethod
    def whole(cls, clip: Clip) -> "Selection":
        return cls(0, clip.frames)

    @classmethod
    def from_seconds(cls, start: float, end: float, rate: int) -> "Selection":
        return cls(int(round(start * rate)), int(round(end * rate)))

    @property
    def is_empty(self) -> bool:
        return self.end == self.start

    @property
    def length(self) -> int:
        return self.end - self.start

    def clamped(self, frames: int) -> "Selection":
        return Selection(min(self.start, frames), min(self.end, frames))

    def or_whole(self, clip: Clip) -> "Selection":
        """This selection inside the clip; the whole clip when nothing is selected (Audacity's rule for effects)."""
        sel = self.clamped(clip.frames)
        return Selection.whole(clip) if sel.is_empty else sel

    def seconds(self, rate: int) -> tuple[float, float]:
        return self.start / rate, self.end / rate

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True)
class Change:
    """Where an edit changed the clip: old frames [start, old_end) became new frames [start, new_end).

    Everything before `start` is identical in both; everything from `old_end` on in the old clip equals
    everything from `new_end` on in the new one. The edit history stores only the changed frames."""

    start: int
    old_end: int
    new_end: int
    copied_from: Optional[int] = None  # new[start:new_end] == old[copied_from:...] (trim): nothing new to store
    scale: Optional[float] = None  # new[start:new_end] == old[start:old_end] * float32(scale) (gain): no audio stored
    reversed: bool = False  # new[start:new_end] == old[start:old_end][::-1] (reverse): no audio stored


@dataclass
class EditResult:
    """What an editing operation returns. `changed` is None when the operation did nothing (see `note`)."""

    clip: Clip
    selection: Selection
    note: str = ""
    changed: Optional[Change] = None
    clipboard: Optional[Clip] = None  # cut and copy: the audio taken
    operation: dict = field(default_factory=dict)  # name and parameters, for history and provenance

    @property
    def did_change(self) -> bool:
        return self.changed is not None


def unchanged(clip: Clip, selection: Selection, note: str, operation: dict) -> EditResult:
    return EditResult(clip, selection, note=note, changed=None, operation=operation)


ZERO_CROSSING_SEARCH_SECONDS = 0.01


def nearest_zero_crossing(clip: Clip, frame: int, max_seconds: float = ZERO_CROSSING_SEARCH_SECONDS) -> int:
    """The frame nearest `frame` (within `max_seconds`) where the channel-averaged signal crosses or
    touches zero, so a cut there starts and ends quietly; `frame` itself when none is that close.

    A crossing between samples i-1 and i snaps to whichever of the two is nearer zero.
    """
    frame = int(min(max(frame, 0), clip.frames))
    if clip.frames < 2:
        return frame
    radius = max(1, int(round(max_seconds * clip.sample_rate)))
    lo, hi = max(0, frame - radius), min(clip.frames, frame + radius + 1)
    mono = clip.samples[lo:hi].mean(axis=1)
    if mono.size == 0:
        return frame
    candidates = np.flatnonzero(mono == 0.0)
    signs = np.signbit(mono)
    flips = np.flatnonzero(signs[1:] != signs[:-1]) + 1  # sign changes between k-1 and k
    if flips.size:
        pick_prev = np.abs(mono[flips - 1]) < np.abs(mono[flips])
        flips = np.where(pick_prev, flips - 1, flips)
        candidates = np.concatenate([candidates, flips])
    if candidates.size == 0:
        return frame
    positions = candidates + lo
    return int(positions[np.argmin(np.abs(positions - frame), axis=0)])


def snap_to_zero_crossings(clip: Clip, selection: Selection,
                           max_seconds: float = ZERO_CROSSING_SEARCH_SECONDS) -> Selection:
    """Move both edges of the selection (or the cursor) to their nearest zero crossings."""
    sel = selection.clamped(clip.frames)
    start = nearest_zero_crossing(clip, sel.start, max_seconds)
    if sel.is_empty:
        return Selection.cursor(start)
    end = nearest_zero_crossing(clip, sel.end, max_seconds)
    return Selection(start, max(start, end))
