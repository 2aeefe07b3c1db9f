"""Bars and tempo for musical audio: exact bar lengths in samples, trimming a take to them, and the tag that
names tempo and bars in file names (`_97bpm_4bars`), which DAWs read to set a loop's tempo.

Qt-free and model-free; core.generation.bar_locked uses it to make bar-locked takes.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from core.audio.clip import Clip
from core.errors import InputError

from .acid import AcidInfo

FADE_SECONDS = 0.010  # a short fade-out at the cut: no click at the loop point, no audible dip
MAX_BARS = 64
# Every tempo the user gives or a DAW sends (--bpm, batch rows, the session tempo, a MIDI clock, the editor's
# dialogs) is checked against this one range: what DAWs offer for real music, from a slow 20 to a fast 400.
MIN_BPM, MAX_BPM = 20.0, 400.0
ENDINGS = ("fade", "close-loop")  # how a bar-locked take ends: a short fade, or a loop-closing pass


def check_bars(bars, beats_per_bar) -> None:
    if isinstance(bars, bool) or not isinstance(bars, int) or not 1 <= bars <= MAX_BARS:
        raise InputError(f"bars must be a whole number from 1 to {MAX_BARS} (got {bars!r}).")
    if isinstance(beats_per_bar, bool) or not isinstance(beats_per_bar, int) or not 1 <= beats_per_bar <= 16:
        raise InputError(f"beats per bar must be a whole number from 1 to 16 (got {beats_per_bar!r}).")


def check_bpm(bpm) -> float:
    """The tempo as a float, or one-line InputError naming the allowed range."""
    if isinstance(bpm, bool) or not isinstance(bpm, (int, float)) or not np.isfinite(bpm) \
            or not MIN_BPM <= bpm <= MAX_BPM:
        shown = f"{bpm:g}" if isinstance(bpm, (int, float)) and not isinstance(bpm, bool) else repr(bpm)
        raise InputError(f"tempo must be a number from {MIN_BPM:g} to {MAX_BPM:g} BPM (got {shown}).")
    return float(bpm)


def bar_seconds(bars: int, bpm: float, beats_per_bar: int = 4) -> float:
    return bars * beats_per_bar * 60.0 / bpm


def bar_frames(bars: int, bpm: float, rate: int, beats_per_bar: int = 4) -> int:
    """N bars in samples at `rate`: bars x beats x 60 / bpm x rate, rounded to the nearest sample."""
    return int(round(bars * beats_per_bar * 60.0 * rate / bpm))


def trim_to_frames(clip: Clip, frames: int, fade_seconds: float = FADE_SECONDS) -> Clip:
    """The clip cut (or padded with silence) to exactly `frames`, with a short linear fade-out at the cut."""
    samples = clip.samples[:frames]
    if len(samples) < frames:
        samples = np.concatenate([samples, np.zeros((frames - len(samples), clip.channels), np.float32)])
    else:
        samples = samples.copy()
    n = min(frames, int(round(fade_seconds * clip.sample_rate)))
    if n > 0:
        samples[-n:] *= np.linspace(1.0, 0.0, n, dtype=np.float32)[:, None]
    return Clip(samples, clip.sample_rate)


def tempo_tag(bpm: Optional[float], bars: Optional[int]) -> str:
    """'_97bpm_4bars' (or '_97.5bpm_4bars'); '' without a tempo."""
    if bpm is None:
        return ""
    tag = f"_{round(float(bpm), 2):g}bpm"
    return tag + (f"_{bars}bar{'s' if bars != 1 else ''}" if bars else "")


def acid_info(settings: dict) -> Optional[AcidInfo]:
    """The ACID chunk for a take whose settings record a bar-locked tempo (bpm, bars, beats_per_bar)."""
    bpm, bars = settings.get("bpm"), settings.get("bars")
    if not settings.get("bar_locked") or "selection_seconds" in settings:
        return None  # an extended loop or a part of a take: its length is not `bars` bars
    if not isinstance(bpm, (int, float)) or not isinstance(bars, int):
        return None
    beats_per_bar = int(settings.get("beats_per_bar", 4))
    return AcidInfo(bpm=float(bpm), beats=bars * beats_per_bar, meter_numerator=beats_per_bar, meter_denominator=4)
