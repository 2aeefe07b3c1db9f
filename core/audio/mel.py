"""AudioLDM 2's mel front-end: how the VAE expects to see audio.

16 kHz mono; STFT with n_fft = window = 1024, hop 160 (10 ms), periodic Hann, centre/reflect padding;
magnitude (power 1); 64 Slaney-scale, Slaney-normalised mel bands over 0-8000 Hz; natural log of
clamp(x, 1e-5). Before that the original code removes DC and peak-normalises the waveform to 0.5:
that step is `prepare_waveform`, kept apart so that callers can undo the gain on generated audio.
Built on transformers.audio_utils, which reproduces the original code's output to ~6e-6.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000
N_FFT = 1024
HOP = 160
N_MELS = 64
F_MIN, F_MAX = 0.0, 8000.0
LOG_FLOOR = 1e-5
PEAK = 0.5


@dataclass(frozen=True)
class FrontEnd:
    """The mel front-end's parameters. Defaults are the official checkpoints'; `from_vocoder_config` reads the
    ones a model's configs state (rate, hop, mel bins: the vocoder is the front-end's inverse)."""

    sample_rate: int = SAMPLE_RATE
    n_fft: int = N_FFT
    hop: int = HOP
    n_mels: int = N_MELS
    f_min: float = F_MIN
    f_max: float = F_MAX

    @classmethod
    def from_vocoder_config(cls, config: Any) -> "FrontEnd":
        """From a vocoder config (a dict from vocoder/config.json, or the loaded model's config object)."""
        get = config.get if isinstance(config, dict) else lambda key, default=None: getattr(config, key, default)
        rate = int(get("sampling_rate", SAMPLE_RATE) or SAMPLE_RATE)
        rates = get("upsample_rates", None)
        hop = int(np.prod(rates)) if rates else HOP
        return cls(sample_rate=rate, hop=hop, n_mels=int(get("model_in_dim", N_MELS) or N_MELS),
                   f_max=min(F_MAX, rate / 2))


OFFICIAL = FrontEnd()


def prepare_waveform(wave16k: np.ndarray) -> tuple[np.ndarray, float]:
    """Remove DC and scale the peak to 0.5; return the waveform and the gain applied (1.0 for silence)."""
    wave = np.asarray(wave16k, dtype=np.float64)
    wave = wave - wave.mean()
    peak = float(np.abs(wave).max()) if wave.size else 0.0
    gain = PEAK / peak if peak > 1e-8 else 1.0
    return (wave * gain).astype(np.float32), gain


@lru_cache(maxsize=4)
def _filters_and_window(front: FrontEnd) -> tuple[np.ndarray, np.ndarray]:
    from transformers.audio_utils import mel_filter_bank, window_function

    filters = mel_filter_bank(num_frequency_bins=front.n_fft // 2 + 1, num_mel_filters=front.n_mels,
                              min_frequency=front.f_min, max_frequency=front.f_max, sampling_rate=front.sample_rate,
                              norm="slaney", mel_scale="slaney")
    return filters, window_function(front.n_fft, "hann", periodic=True)


def log_mel(wave16k: np.ndarray, front: FrontEnd = OFFICIAL) -> np.ndarray:
    """Log-mel spectrogram shaped (frames, n_mels), one frame per hop (len // hop frames); by default the
    official 64 bins and hop 160.

    No normalisation happens here: call `prepare_waveform` first, as the model's training data was.
    """
    from transformers.audio_utils import spectrogram

    wave = np.asarray(wave16k, dtype=np.float64)
    if wave.size < front.n_fft // 2 + 1:  # reflect padding needs more than half a window
        wave = np.pad(wave, (0, front.n_fft // 2 + 1 - wave.size))
    filters, window = _filters_and_window(front)
    mel = spectrogram(wave, window, frame_length=front.n_fft, hop_length=front.hop, power=1.0, center=True,
                      pad_mode="reflect", mel_filters=filters, mel_floor=LOG_FLOOR, log_mel="log",
                      dtype=np.float64)
    frames = len(wave16k) // front.hop
    return mel.T[:frames].astype(np.float32)
