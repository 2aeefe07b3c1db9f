"""Joining generated audio onto the user's audio without clicks: equal-power crossfades."""

from __future__ import annotations

import numpy as np

from core.audio.downmix import spread

CROSSFADE_SECONDS = 0.02  # 20 ms: long enough to hide a step, short enough not to smear transients


def crossfade_samples(rate: int, seconds: float = CROSSFADE_SECONDS) -> int:
    return max(1, int(round(seconds * rate)))


def equal_power_crossfade(outgoing: np.ndarray, incoming: np.ndarray) -> np.ndarray:
    """Fade `outgoing` out and `incoming` in over their common length (frames, channels).

    Gains cos/sin of a quarter circle keep the summed power constant for uncorrelated material.
    """
    n = outgoing.shape[0]
    theta = (np.arange(n, dtype=np.float64) + 0.5) / n * (np.pi / 2)
    fade_out = np.cos(theta)[:, None]
    fade_in = np.sin(theta)[:, None]
    return (outgoing * fade_out + incoming * fade_in).astype(np.float32)


def fit_to_clip(wave: np.ndarray, rate: int, channels: int, frames: int, gain: float = 1.0,
                model_rate: int = 16_000) -> np.ndarray:
    """Generated mono audio at `model_rate` (the model's: 16 kHz unless told) as (frames, channels) at the
    clip's rate, exactly `frames` long, spread so that its downmix is the generated audio
    (core.audio.downmix.spread: 5.1's LFE stays silent)."""
    from core.audio.clip import resample

    wave = resample(np.asarray(wave, dtype=np.float32) * gain, model_rate, rate)
    if wave.shape[0] < frames:
        wave = np.pad(wave, (0, frames - wave.shape[0]))
    return spread(wave[:frames], channels)
