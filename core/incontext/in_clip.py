"""In-context edits of a part of a longer clip (the editor's selection or cursor): the operation runs on the part,
and its result is spliced back between what came before and what follows, so the rest stays bit for bit.

- continue at a cursor: new audio follows the part before the cursor; what came after the cursor follows it.
- extend / close a loop that is a range of the clip: the loop is edited on its own, then put back in its place
  (extend: the new bars sit between the loop and what followed it).
Inpaint and transform already work on a range of the whole clip (core.incontext.regenerate, .transform).
`check_*` refuse at once, without a model, what the operation would refuse.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

import numpy as np

from core.audio.clip import Clip
from core.errors import InputError
from core.generation.engine import Engine, GenerationResult
from core.generation.progress import CancelCheck, ProgressCallback

from .regenerate import GenerationSettings, check_clip, close_loop, continue_clip, extend_loop


def frame_at(clip: Clip, seconds: float) -> int:
    """The frame a time in seconds falls on (a frame count divided by the rate comes back as that count)."""
    return max(0, min(clip.frames, int(round(seconds * clip.sample_rate))))


def part(clip: Clip, start: int, end: int) -> Clip:
    return Clip(clip.samples[start:end], clip.sample_rate)


def spliced(clip: Clip, start: int, end: int, middle: np.ndarray) -> Clip:
    """The clip with frames [start, end) replaced by `middle` (same rate and channels)."""
    return Clip(np.concatenate([clip.samples[:start], middle, clip.samples[end:]]), clip.sample_rate)


def check_span(clip: Clip, start: Optional[float], end: Optional[float]) -> tuple[int, int]:
    """The frames of [start, end) seconds (the whole clip where not given), refused when empty."""
    f0 = 0 if start is None else frame_at(clip, start)
    f1 = clip.frames if end is None else frame_at(clip, end)
    if f1 <= f0:
        raise InputError(f"the range must satisfy 0 <= start < end <= {clip.seconds:.3f} s (the clip's length); "
                         f"got start={start}, end={end}.")
    return f0, f1


def check_continue_at(clip: Clip, at: Optional[float]) -> int:
    frame = clip.frames if at is None else frame_at(clip, at)
    check_clip(part(clip, 0, frame))
    return frame


def continue_at(engine: Engine, clip: Clip, seconds: float, at: Optional[float] = None,
                settings: GenerationSettings = GenerationSettings(), progress: Optional[ProgressCallback] = None,
                cancel: CancelCheck = None) -> GenerationResult:
    """`seconds` of new audio after the part before `at` (the clip's end when None); what followed comes after."""
    frame = check_continue_at(clip, at)
    result = continue_clip(engine, part(clip, 0, frame), seconds, settings, progress=progress, cancel=cancel)
    if frame == clip.frames:
        return result
    return _map(result, lambda new: spliced(clip, frame, frame, new.samples[frame:]))


def extend_loop_in(engine: Engine, clip: Clip, bars: int, bpm: Optional[float] = None, beats_per_bar: int = 4,
                   start: Optional[float] = None, end: Optional[float] = None,
                   settings: GenerationSettings = GenerationSettings(), progress: Optional[ProgressCallback] = None,
                   cancel: CancelCheck = None) -> GenerationResult:
    """Extend the loop [start, end) of the clip by `bars`; the new bars sit between the loop and what followed."""
    f0, f1 = check_span(clip, start, end)
    result = extend_loop(engine, part(clip, f0, f1), bars, bpm=bpm or None, beats_per_bar=beats_per_bar,
                         settings=settings, progress=progress, cancel=cancel)
    return _in_place(clip, f0, f1, result)


def close_loop_in(engine: Engine, clip: Clip, seconds: Optional[float] = None, start: Optional[float] = None,
                  end: Optional[float] = None, settings: GenerationSettings = GenerationSettings(),
                  progress: Optional[ProgressCallback] = None, cancel: CancelCheck = None) -> GenerationResult:
    """Close the loop [start, end) of the clip (its end regenerated to flow into its start), in place."""
    f0, f1 = check_span(clip, start, end)
    result = close_loop(engine, part(clip, f0, f1), seconds, settings=settings, progress=progress, cancel=cancel)
    return _in_place(clip, f0, f1, result)


def _in_place(clip: Clip, f0: int, f1: int, result: GenerationResult) -> GenerationResult:
    if (f0, f1) == (0, clip.frames):
        return result
    return _map(result, lambda new: spliced(clip, f0, f1, new.samples))


def _map(result: GenerationResult, fix) -> GenerationResult:
    return replace(result, candidates=[replace(c, clip=fix(c.clip)) for c in result.candidates])
