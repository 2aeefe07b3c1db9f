"""Signal levels the app judges takes by."""

from __future__ import annotations

import numpy as np

from core.audio.clip import Clip

# Below -60 dBFS peak nothing a listener would use is left: the card says "silent take".
NEAR_SILENT_PEAK_DB = -60.0


def peak_db(clip: Clip) -> float:
    peak = float(np.abs(clip.samples).max()) if clip.frames else 0.0
    return float(20.0 * np.log10(peak)) if peak > 0 else float("-inf")


def is_near_silent(clip: Clip, threshold_db: float = NEAR_SILENT_PEAK_DB) -> bool:
    return bool(peak_db(clip) < threshold_db)
