"""A spectrogram overview for display (pure numpy, Qt-free): a bounded number of frames whatever the clip length."""

from __future__ import annotations

import numpy as np


def spectrogram_db(mono: np.ndarray, max_columns: int, n_fft: int = 1024) -> np.ndarray:
    """Magnitude spectrogram in dB shaped (columns, n_fft // 2 + 1), at most `max_columns` Hann-windowed frames
    spread evenly over the signal (long clips are sampled, not averaged: an overview, like the waveform's)."""
    mono = np.asarray(mono, dtype=np.float32)
    if len(mono) < n_fft:
        mono = np.pad(mono, (0, n_fft - len(mono)))
    hop = max(n_fft // 4, -(-(len(mono) - n_fft) // max(1, max_columns - 1)))
    count = 1 + (len(mono) - n_fft) // hop
    frames = np.lib.stride_tricks.as_strided(mono, shape=(count, n_fft), strides=(hop * mono.strides[0],
                                                                                  mono.strides[0]))
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(n_fft).astype(np.float32), axis=1))
    return (20.0 * np.log10(np.maximum(spectrum, 1e-6))).astype(np.float32)
