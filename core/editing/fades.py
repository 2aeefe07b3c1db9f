"""Fade in and fade out with linear, exponential, logarithmic and S-curve shapes."""

from __future__ import annotations

from typing import Optional

import numpy as np

from core.audio.clip import Clip
from core.editing.chunks import copy_frames, scale_frames
from core.editing.selection import Change, EditResult, Selection
from core.errors import InputError

EXP_RANGE = 1000.0  # exponential/logarithmic curves span 60 dB (a factor of 1000) before reaching silence


def _linear(x: np.ndarray) -> np.ndarray:
    return x


# float32 throughout: a whole-clip fade of a long clip must not build float64 arrays of its length.
def _exponential(x: np.ndarray) -> np.ndarray:
    # Linear in dB over 60 dB, shifted so it starts at exactly 0: slow start, fast finish. exp, not power:
    # numpy vectorises float32 exp (SIMD), not float32 power (3x slower on a long fade).
    return (np.exp(x * np.float32(np.log(EXP_RANGE))) - np.float32(1)) / np.float32(EXP_RANGE - 1.0)


def _logarithmic(x: np.ndarray) -> np.ndarray:
    # The exponential curve's inverse: fast start, slow finish.
    return np.log1p(np.float32(EXP_RANGE - 1.0) * x) / np.float32(np.log(EXP_RANGE))


def _s_curve(x: np.ndarray) -> np.ndarray:
    return (np.float32(1) - np.cos(np.float32(np.pi) * x)) / np.float32(2)


CURVES = {"linear": _linear, "exponential": _exponential, "logarithmic": _logarithmic, "s-curve": _s_curve}


def fade_gains(n: int, curve: str = "linear", first: int = 0, stop: int | None = None,
               falling: bool = False) -> np.ndarray:
    """Gains for frames [first, stop) of an `n`-frame fade: rising from exactly 0 at frame 0 to 1 at frame
    n - 1 (one frame: 0), or the mirror image when `falling`. Any piece equals that slice of the whole."""
    if curve not in CURVES:
        raise InputError(f"unknown fade curve {curve!r}; use one of {', '.join(CURVES)}.")
    stop = n if stop is None else stop
    index = np.arange(first, stop, dtype=np.float64)
    if falling:
        index = (n - 1) - index
    x = (index / (n - 1)).astype(np.float32) if n > 1 else np.zeros(stop - first, np.float32)
    # float32 exp(ln 1000) is 1000.0001: without the clamp the exponential fade ends at 1.0000001, and a
    # full-scale sample there goes over 0 dBFS
    return np.minimum(CURVES[curve](x).astype(np.float32, copy=False), np.float32(1))


def fade_in(clip: Clip, selection: Selection, curve: str = "linear", seconds: Optional[float] = None) -> EditResult:
    """Fade in over the selection (the whole clip when nothing is selected), or over its first `seconds`."""
    return _fade(clip, selection, curve, seconds, rising=True)


def fade_out(clip: Clip, selection: Selection, curve: str = "linear", seconds: Optional[float] = None) -> EditResult:
    """Fade out over the selection (the whole clip when nothing is selected), or over its last `seconds`."""
    return _fade(clip, selection, curve, seconds, rising=False)


def _fade(clip: Clip, selection: Selection, curve: str, seconds: Optional[float], rising: bool) -> EditResult:
    sel = selection.or_whole(clip)
    name = "fade_in" if rising else "fade_out"
    note = ""
    n = sel.length
    if seconds is not None:
        if not (isinstance(seconds, (int, float)) and np.isfinite(seconds) and seconds > 0):
            raise InputError(f"the fade must last more than 0 s; got {seconds!r}.")
        wanted = max(1, int(round(seconds * clip.sample_rate)))
        if wanted > n:
            note = (f"The selection is {n / clip.sample_rate:.3f} s, shorter than the {seconds:g} s fade: "
                    "the fade covers the selection.")
        n = min(n, wanted)
    f0, f1 = (sel.start, sel.start + n) if rising else (sel.end - n, sel.end)
    if curve not in CURVES:
        fade_gains(1, curve)  # the clear error, before any work
    x, out = clip.samples, np.empty_like(clip.samples)
    copy_frames(out[:f0], x[:f0])
    copy_frames(out[f1:], x[f1:])
    # in cache-sized pieces on every core; any piece of the gains equals that slice of the whole fade
    scale_frames(out[f0:f1], x[f0:f1], lambda a, b: fade_gains(n, curve, a, b, falling=not rising))
    op = {"op": name, "start": f0, "end": f1, "curve": curve}
    return EditResult(Clip(out, clip.sample_rate), selection.clamped(clip.frames), note=note,
                      changed=Change(f0, f1, f1), operation=op)
