"""The one downmix used wherever audio with more channels becomes stereo or mono: export, Make mono/stereo,
paste, playback, pads, and the model's mono input. No channel is ever dropped silently.

Layouts are assumed from the channel count, in the WAV (WAVE_FORMAT_EXTENSIBLE) / SMPTE order; the file's own
channel mask is not read (soundfile does not expose it), so a file in another order is mixed as if in this one:

    channels  layout  order                       stereo downmix (ITU-R BS.775, -3 dB = 0.7071)
    3         3.0     L R C                       L' = L + 0.7071 C              R' = R + 0.7071 C
    4         quad    L R Ls Rs                   L' = L + 0.7071 Ls             R' = R + 0.7071 Rs
    5         5.0     L R C Ls Rs                 L' = L + 0.7071 (C + Ls)       R' = R + 0.7071 (C + Rs)
    6         5.1     L R C LFE Ls Rs             as 5.0; the LFE is left out, as BS.775 does
    8         7.1     L R C LFE Ls Rs Lb Rb       as 5.1, plus 0.7071 Lb / 0.7071 Rb

(7.1: SMPTE puts the side pair at 5-6 and the back pair at 7-8; WAV's mask order has them the other way round.
Both pairs get the same downmix weight, so only loudness, which weights side surrounds +1.5 dB, can tell.)

Mono is the stereo downmix's mean ((L' + R') / 2; for stereo, the channels' mean). Any other count (7, 9+) has
no standard layout: the odd channels (1st, 3rd, ...) are averaged into the left, the even ones into the right,
and mono is the mean of all channels.

A BS.775 downmix can exceed full scale (in-phase centre and surrounds add up). It is kept in float, never
clipped; `peak_note` gives the one line to show the user. The other way, `spread` places the model's mono
output into a clip's channels so that its downmix is that output again (the LFE stays silent).

    mixed = downmix(samples, 2)                   # (frames, 6) float32 -> (frames, 2) float32
    describe(6, 2)              # '6 channels (5.1) downmixed to stereo (ITU-R BS.775, LFE left out)'
"""

from __future__ import annotations

import math
import weakref
from typing import Optional

import numpy as np

MINUS_3_DB = math.sqrt(0.5)  # 0.7071: BS.775's weight for centre and surround channels

# Channel names by count, in the WAV/SMPTE order (see the module's docstring).
LAYOUTS: dict[int, tuple[str, tuple[str, ...]]] = {
    1: ("mono", ("M",)),
    2: ("stereo", ("L", "R")),
    3: ("3.0", ("L", "R", "C")),
    4: ("quad", ("L", "R", "Ls", "Rs")),
    5: ("5.0", ("L", "R", "C", "Ls", "Rs")),
    6: ("5.1", ("L", "R", "C", "LFE", "Ls", "Rs")),
    8: ("7.1", ("L", "R", "C", "LFE", "Ls", "Rs", "Lb", "Rb")),
}
_TO_STEREO = {"M": (1.0, 1.0), "L": (1.0, 0.0), "R": (0.0, 1.0), "C": (MINUS_3_DB, MINUS_3_DB), "LFE": (0.0, 0.0),
              "Ls": (MINUS_3_DB, 0.0), "Rs": (0.0, MINUS_3_DB), "Lb": (MINUS_3_DB, 0.0), "Rb": (0.0, MINUS_3_DB)}


def layout_name(channels: int) -> Optional[str]:
    """'5.1', 'quad', ... for a count with a standard layout, else None."""
    entry = LAYOUTS.get(channels)
    return entry[0] if entry else None


def is_standard(channels: int) -> bool:
    return channels in LAYOUTS


def stereo_matrix(channels: int) -> np.ndarray:
    """(channels, 2) weights: column 0 makes the left output, column 1 the right."""
    if channels < 1:
        raise ValueError(f"a clip has at least one channel, not {channels}")
    if channels in LAYOUTS:
        return np.array([_TO_STEREO[name] for name in LAYOUTS[channels][1]], dtype=np.float64)
    matrix = np.zeros((channels, 2))
    left, right = range(0, channels, 2), range(1, channels, 2)  # 1st, 3rd, ... left; 2nd, 4th, ... right
    matrix[list(left), 0] = 1.0 / len(left)
    matrix[list(right), 1] = 1.0 / len(right)
    return matrix


def mono_weights(channels: int) -> np.ndarray:
    """(channels,) weights of the mono downmix: the stereo downmix's mean, or the plain mean (no layout)."""
    if channels in LAYOUTS:
        return stereo_matrix(channels).mean(axis=1)
    return np.full(channels, 1.0 / channels)


def matrix_for(from_channels: int, to_channels: int) -> np.ndarray:
    """(from_channels, to_channels) weights for a downmix to stereo (2) or mono (1)."""
    if to_channels == 2:
        return stereo_matrix(from_channels)
    if to_channels == 1:
        return mono_weights(from_channels)[:, None]
    raise ValueError(f"a downmix goes to mono or stereo, not to {to_channels} channels")


def downmix(samples: np.ndarray, channels: int) -> np.ndarray:
    """`samples` (frames, n) as (frames, `channels`) float32, `channels` 1 or 2 and at most n (an equal count
    is returned as it is). Summed column by column in float32 (a matrix product or numpy's mean along the short
    channel axis is a strided reduction, several times slower on a long clip); equal weights are applied once
    to the sum, so stereo to mono is (L + R) / 2 bit for bit."""
    samples = np.asarray(samples, dtype=np.float32)
    have = samples.shape[1]
    if channels == have:
        return samples
    if channels > have:
        raise ValueError(f"cannot downmix {have} channels to {channels}")
    weights = matrix_for(have, channels)
    columns = [_weighted_sum(samples, weights[:, o]) for o in range(channels)]
    return columns[0][:, None] if channels == 1 else np.stack(columns, axis=1)


def _weighted_sum(samples: np.ndarray, weights: np.ndarray) -> np.ndarray:
    used = np.flatnonzero(weights)
    total = samples[:, used[0]].astype(np.float32, copy=True)
    if np.all(weights[used] == weights[used[0]]):
        for c in used[1:]:
            total += samples[:, c]
        if weights[used[0]] != 1.0:
            total *= np.float32(weights[used[0]])
        return total
    scratch = np.empty_like(total)
    if weights[used[0]] != 1.0:
        total *= np.float32(weights[used[0]])
    for c in used[1:]:
        if weights[c] == 1.0:
            total += samples[:, c]
        else:
            np.multiply(samples[:, c], np.float32(weights[c]), out=scratch)
            total += scratch
    return total


def spread(mono: np.ndarray, channels: int) -> np.ndarray:
    """1-D mono audio (what the model generates) as (frames, `channels`) float32 whose mono downmix is that
    audio again: stereo and counts without a layout get it on every channel; a standard layout gets it equally
    on its main channels, scaled by 1 / (sum of the mono weights), and silence on the LFE. So a continued 5.1
    clip does not jump in level where the generated part starts, and no full-band sound lands on the LFE."""
    mono = np.asarray(mono, dtype=np.float32)
    if channels <= 2 or channels not in LAYOUTS:
        return np.repeat(mono[:, None], channels, axis=1)
    weights = mono_weights(channels)
    out = np.zeros((mono.shape[0], channels), np.float32)
    level = mono * np.float32(1.0 / weights.sum())
    for c in np.flatnonzero(weights):
        out[:, c] = level
    return out


def layout_label(channels: int) -> str:
    """'mono', 'stereo', '6 channels (5.1)', '7 channels'."""
    if channels in (1, 2):
        return LAYOUTS[channels][0]
    name = layout_name(channels)
    return f"{channels} channels ({name})" if name else f"{channels} channels"


def describe(from_channels: int, to_channels: int) -> str:
    """What the downmix does, in one phrase for a note: '6 channels (5.1) downmixed to stereo (ITU-R BS.775)'."""
    target = layout_label(to_channels)
    if from_channels == 2:
        return "stereo mixed to mono (the channels' mean)"
    if is_standard(from_channels):
        how = "ITU-R BS.775, LFE left out" if "LFE" in LAYOUTS[from_channels][1] else "ITU-R BS.775"
        if to_channels == 1:
            how += ", then the two averaged"
        return f"{layout_label(from_channels)} downmixed to {target} ({how})"
    how = "no standard layout: odd channels averaged left, even right" if to_channels == 2 else \
        "no standard layout: all channels averaged"
    return f"{layout_label(from_channels)} downmixed to {target} ({how})"


def peak(samples: np.ndarray) -> float:
    """The largest magnitude (max and min: no temporary array the size of a long clip)."""
    return float(max(samples.max(), -samples.min())) if samples.size else 0.0


def peak_note(mixed: np.ndarray, integer_depth: Optional[str] = None) -> str:
    """One line when the downmix peaks above full scale, else ''. Kept in float, nothing is clipped; written as
    `integer_depth` ('24-bit', ...) it would be, and the line says so."""
    return peak_line(peak(mixed), integer_depth)


def peak_line(top: float, integer_depth: Optional[str] = None) -> str:
    if top <= 1.0:
        return ""
    level = f"The downmix peaks at {20.0 * math.log10(top):+.1f} dBFS"
    if integer_depth:
        return f"{level}: {integer_depth} clips it; choose 32-bit float, or normalise first."
    return (f"{level}, above full scale: it is kept in float (nothing clipped); lower the gain or normalise "
            "before writing 16 or 24 bit.")


def mix_peak(samples: np.ndarray, channels: int) -> float:
    """The peak of `samples`' downmix to `channels`, mixed piece by piece (never the whole mix in memory) and
    remembered per array: the Export dialog asks again on every change of a field."""
    key = (id(samples), channels)
    known = _MIX_PEAKS.get(key)
    if known is not None and known[0]() is samples:
        return known[1]
    top = 0.0
    for a in range(0, samples.shape[0], PEAK_PIECE_FRAMES):
        top = max(top, peak(downmix(samples[a:a + PEAK_PIECE_FRAMES], channels)))
    while len(_MIX_PEAKS) >= 8:
        _MIX_PEAKS.pop(next(iter(_MIX_PEAKS)))
    _MIX_PEAKS[key] = (weakref.ref(samples), top)
    return top


PEAK_PIECE_FRAMES = 1 << 18
_MIX_PEAKS: dict[tuple[int, int], tuple["weakref.ref[np.ndarray]", float]] = {}


def note(from_channels: int, to_channels: int, mixed: Optional[np.ndarray] = None) -> str:
    """The user's line for a downmix: what was done, and (given the `mixed` audio) whether it passes 0 dBFS."""
    said = describe(from_channels, to_channels)
    parts = [said[0].upper() + said[1:] + ".", peak_note(mixed) if mixed is not None else ""]
    return " ".join(p for p in parts if p)
