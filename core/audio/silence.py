"""Signal levels the app judges takes by."""

from __future__ import annotations

import numpy as np

from core.audio.clip import Clip

# A take whose loudest sample is below -45 dBFS is inaudible at any sane monitor level (room tone in a real
# recording peaks well above it): the card says "silent take" rather than showing a normalised thumbnail.
NEAR_SILENT_PEAK_DB = -45.0


def peak_db(clip: Clip) -> float:
    peak = float(np.abs(clip.samples).max()) if clip.frames else 0.0
    return float(20.0 * np.log10(peak)) if peak > 0 else float("-inf")


def is_near_silent(clip: Clip, threshold_db: float = NEAR_SILENT_PEAK_DB) -> bool:
    return bool(peak_db(clip) < threshold_db)
