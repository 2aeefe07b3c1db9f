"""The tempo of a loop the user gives: librosa's beat tracker, snapped to a whole number of bars.

Qt-free and model-free; core.incontext's extend-loop uses it when no --bpm is given.
"""

from __future__ import annotations

import numpy as np

from core.audio.clip import Clip
from core.errors import InputError

# A tempo the user gives is checked against core.tempo.bars' MIN_BPM..MAX_BPM like every tempo. An *estimated*
# one must fall in this narrower band: outside it librosa's tracker has almost always locked onto half or double
# time (or noise), so the user is asked for --bpm rather than given bars of the wrong length.
ESTIMATE_MIN_BPM, ESTIMATE_MAX_BPM = 30.0, 300.0
BAR_SNAP_TOLERANCE = 0.08  # an estimate within 8% of a whole-bar tempo is taken to be that tempo


def estimate_bpm(clip: Clip, beats_per_bar: int = 4) -> float:
    """Tempo of the clip by librosa's beat tracker, snapped to whole bars (see `snap_to_whole_bars`).

    InputError when no tempo can be found: fewer than two beats (a single hit, a clip shorter than a beat
    has no tempo, whatever the tracker's prior says) or a result outside ESTIMATE_MIN_BPM..ESTIMATE_MAX_BPM.
    """
    import librosa

    tempo, beats = librosa.beat.beat_track(y=clip.mono, sr=clip.sample_rate)
    bpm = float(np.atleast_1d(tempo)[0])
    if len(beats) < 2 or not ESTIMATE_MIN_BPM <= bpm <= ESTIMATE_MAX_BPM:
        raise InputError("could not estimate the tempo of this clip (no clear beat); give it with --bpm.")
    return snap_to_whole_bars(bpm, clip.seconds, beats_per_bar)


def snap_to_whole_bars(bpm: float, seconds: float, beats_per_bar: int = 4) -> float:
    """The tempo at which a loop of `seconds` holds a whole number of bars, if that is within
    BAR_SNAP_TOLERANCE of the estimate; else the estimate. A loop's own length is sharper evidence of its
    tempo than a beat tracker's estimate, and a snapped tempo adds bars on the loop's own grid."""
    bars = round(seconds * bpm / (60.0 * beats_per_bar))
    if bars >= 1:
        snapped = bars * beats_per_bar * 60.0 / seconds
        near = abs(snapped / bpm - 1.0) <= BAR_SNAP_TOLERANCE
        if near and ESTIMATE_MIN_BPM <= snapped <= ESTIMATE_MAX_BPM:
            return snapped
    return bpm
