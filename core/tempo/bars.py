"""Bars and tempo for musical audio: exact bar lengths in samples, trimming a take to them, and the tag that
names tempo, meter and bars in file names (`_97bpm_4bars`, `_140bpm_7-8_2bars`), which DAWs read to set a
loop's tempo.

A meter is beats per bar over a beat unit (7/8: seven eighth notes). The tempo counts quarter notes, as DAWs'
tempo fields do: a bar of 6/8 at 120 BPM lasts 6 x 0.25 s = 1.5 s.

Qt-free and model-free; core.generation.bar_locked uses it to make bar-locked takes.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from core.audio.acid import AcidInfo
from core.audio.clip import Clip
from core.errors import InputError

FADE_SECONDS = 0.010  # a short fade-out at the cut: no click at the loop point, no audible dip
MAX_BARS = 64
# Every tempo the user gives or a DAW sends (--bpm, batch rows, the session tempo, a MIDI clock, the editor's
# dialogs) is checked against this one range: what DAWs offer for real music, from a slow 20 to a fast 400.
MIN_BPM, MAX_BPM = 20.0, 400.0
ENDINGS = ("fade", "close-loop")  # how a bar-locked take ends: a short fade, or a loop-closing pass
BEAT_UNITS = (1, 2, 4, 8, 16)  # a meter's lower number: whole, half, quarter, eighth, sixteenth notes


def check_bars(bars, beats_per_bar, beat_unit=4) -> None:
    if isinstance(bars, bool) or not isinstance(bars, int) or not 1 <= bars <= MAX_BARS:
        raise InputError(f"bars must be a whole number from 1 to {MAX_BARS} (got {bars!r}).")
    if isinstance(beats_per_bar, bool) or not isinstance(beats_per_bar, int) or not 1 <= beats_per_bar <= 16:
        raise InputError(f"beats per bar must be a whole number from 1 to 16 (got {beats_per_bar!r}).")
    if isinstance(beat_unit, bool) or beat_unit not in BEAT_UNITS:
        raise InputError(f"the beat unit is a meter's lower number: one of {', '.join(map(str, BEAT_UNITS))} "
                         f"(got {beat_unit!r}).")


def check_bpm(bpm) -> float:
    """The tempo as a float, or one-line InputError naming the allowed range."""
    if isinstance(bpm, bool) or not isinstance(bpm, (int, float)) or not np.isfinite(bpm) \
            or not MIN_BPM <= bpm <= MAX_BPM:
        shown = f"{bpm:g}" if isinstance(bpm, (int, float)) and not isinstance(bpm, bool) else repr(bpm)
        raise InputError(f"tempo must be a number from {MIN_BPM:g} to {MAX_BPM:g} BPM (got {shown}).")
    return float(bpm)


def bar_seconds(bars: int, bpm: float, beats_per_bar: int = 4, beat_unit: int = 4) -> float:
    """N bars in seconds: bars x beats x (4 / unit) quarter notes of 60 / bpm seconds each."""
    return bars * beats_per_bar * 240.0 / (beat_unit * bpm)


def bar_frames(bars: int, bpm: float, rate: int, beats_per_bar: int = 4, beat_unit: int = 4) -> int:
    """N bars in samples at `rate`, rounded to the nearest sample."""
    return int(round(bars * beats_per_bar * 240.0 * rate / (beat_unit * bpm)))


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


def tempo_tag(bpm: Optional[float], bars: Optional[int], beats_per_bar: int = 4, beat_unit: int = 4) -> str:
    """'_97bpm_4bars' (or '_97.5bpm_4bars'; a meter other than 4/4 named too: '_140bpm_7-8_2bars'); '' without
    a tempo."""
    if bpm is None:
        return ""
    tag = f"_{round(float(bpm), 2):g}bpm"
    if (beats_per_bar, beat_unit) != (4, 4):
        tag += f"_{beats_per_bar}-{beat_unit}"
    return tag + (f"_{bars}bar{'s' if bars != 1 else ''}" if bars else "")


def meter_of(settings: dict) -> tuple[int, int]:
    """(beats per bar, beat unit) a take's settings record; 4/4 when they say nothing."""
    return int(settings.get("beats_per_bar", 4)), int(settings.get("beat_unit", 4))


def acid_info(settings: dict) -> Optional[AcidInfo]:
    """The ACID chunk for a take whose settings record a bar-locked tempo (bpm, bars, beats_per_bar,
    beat_unit): the meter as numerator / denominator, the beats counted in the meter's unit, the tempo in
    quarter notes per minute."""
    bpm, bars = settings.get("bpm"), settings.get("bars")
    if not settings.get("bar_locked") or "selection_seconds" in settings:
        return None  # an extended loop or a part of a take: its length is not `bars` bars
    if not isinstance(bpm, (int, float)) or not isinstance(bars, int):
        return None
    beats_per_bar, beat_unit = meter_of(settings)
    return AcidInfo(bpm=float(bpm), beats=bars * beats_per_bar, meter_numerator=beats_per_bar,
                    meter_denominator=beat_unit)
