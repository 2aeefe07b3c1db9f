"""AudioLDM 2's mel front-end: how the VAE expects to see audio.

16 kHz mono; STFT with n_fft = window = 1024, hop 160 (10 ms), periodic Hann, centre/reflect padding;
magnitude (power 1); 64 Slaney-scale, Slaney-normalised mel bands over 0-8000 Hz; natural log of
clamp(x, 1e-5). Before that the original code removes DC and peak-normalises the waveform to 0.5:
that step is `prepare_waveform`, kept apart so that callers can undo the gain on generated audio.
Built on transformers.audio_utils, which reproduces the original to ~6e-6 (NOTES.md).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16_000
N_FFT = 1024
HOP = 160
N_MELS = 64
F_MIN, F_MAX = 0.0, 8000.0
LOG_FLOOR = 1e-5
PEAK = 0.5


def prepare_waveform(wave16k: np.ndarray) -> tuple[np.ndarray, float]:
    """Remove DC and scale the peak to 0.5; return the waveform and the gain applied (1.0 for silence)."""
    wave = np.asarray(wave16k, dtype=np.float64)
    wave = wave - wave.mean()
    peak = float(np.abs(wave).max()) if wave.size else 0.0
    gain = PEAK / peak if peak > 1e-8 else 1.0
    return (wave * gain).astype(np.float32), gain


@lru_cache(maxsize=1)
def _filters_and_window() -> tuple[np.ndarray, np.ndarray]:
    from transformers.audio_utils import mel_filter_bank, window_function

    filters = mel_filter_bank(num_frequency_bins=N_FFT // 2 + 1, num_mel_filters=N_MELS, min_frequency=F_MIN,
                              max_frequency=F_MAX, sampling_rate=SAMPLE_RATE, norm="slaney", mel_scale="slaney")
    return filters, window_function(N_FFT, "hann", periodic=True)


def log_mel(wave16k: np.ndarray) -> np.ndarray:
    """Log-mel spectrogram shaped (frames, 64), one frame per 160 samples (len // 160 frames).

    No normalisation happens here: call `prepare_waveform` first, as the model's training data was.
    """
    from transformers.audio_utils import spectrogram

    wave = np.asarray(wave16k, dtype=np.float64)
    if wave.size < N_FFT // 2 + 1:  # reflect padding needs more than half a window
        wave = np.pad(wave, (0, N_FFT // 2 + 1 - wave.size))
    filters, window = _filters_and_window()
    mel = spectrogram(wave, window, frame_length=N_FFT, hop_length=HOP, power=1.0, center=True,
                      pad_mode="reflect", mel_filters=filters, mel_floor=LOG_FLOOR, log_mel="log",
                      dtype=np.float64)
    frames = len(wave16k) // HOP
    return mel.T[:frames].astype(np.float32)
