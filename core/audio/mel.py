"""The mel front-end of AudioLDM models: how the VAE expects to see audio.

The 16 kHz models (AudioLDM 2, AudioLDM): 16 kHz mono; STFT with n_fft = window = 1024, hop 160 (10 ms),
periodic Hann, centre/reflect padding; magnitude (power 1); 64 Slaney-scale, Slaney-normalised mel bands over
0-8000 Hz; natural log of clamp(x, 1e-5). Before that the original code removes DC and peak-normalises the waveform
to 0.5: that step is `prepare_waveform`, kept apart so that callers can undo the gain on generated audio.
Built on transformers.audio_utils in float64: within ~7e-6 of the original code's float32 output on broadband audio,
up to ~2e-3 in the quiet bands of band-limited audio (8 kHz phone audio), where the original's float32 rounding
shows (measured against tests/reference_mel.py).

The 48 kHz AudioLDM model (the original repository's get_audioldm_48k_config): 48 kHz mono; n_fft = window = 2048,
hop 480 (10 ms), 256 mel bands over 20-24000 Hz; the same window, scale, magnitude and log (AUDIOLDM_48K). Its STFT
is computed in the original code's own arithmetic (`original_arithmetic`): a float32 convolution with the windowed
DFT basis. In float32 the sums of 2048 products carry ~1e-6 of rounding, which the log turns into up to ~1e-2 in
quiet bands (band-limited audio); computed the same way, our features equal the original's to <= 1e-5
(tests/test_mel_48k.py), so the model sees what it was trained on.
A model's front-end is read from its vocoder (the front-end's inverse): `FrontEnd.from_vocoder_config`.
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
    original_arithmetic: bool = False  # the STFT as the original code computes it (float32 DFT-basis convolution)

    @classmethod
    def from_vocoder_config(cls, config: Any) -> "FrontEnd":
        """From a vocoder config (a dict from vocoder/config.json, or the loaded model's config object).

        Rate, hop (the product of the upsample rates) and mel bins are the vocoder's; the STFT size and band
        edges, which a vocoder config does not hold, are the known front-end's at that rate (KNOWN), unless the
        config names them (`n_fft`, `mel_fmin`, `mel_fmax`)."""
        get = config.get if isinstance(config, dict) else lambda key, default=None: getattr(config, key, default)
        rate = int(get("sampling_rate", SAMPLE_RATE) or SAMPLE_RATE)
        known = KNOWN.get(rate)
        rates = get("upsample_rates", None)
        hop = int(np.prod(rates)) if rates else (known.hop if known else HOP)
        n_fft = int(get("n_fft", None) or (known.n_fft if known else N_FFT))
        f_min = float(get("mel_fmin", None) or (known.f_min if known else F_MIN))
        f_max = float(get("mel_fmax", None) or (known.f_max if known else min(F_MAX, rate / 2)))
        return cls(sample_rate=rate, n_fft=n_fft, hop=hop, n_mels=int(get("model_in_dim", N_MELS) or N_MELS),
                   f_min=f_min, f_max=f_max, original_arithmetic=bool(known and known.original_arithmetic))

    @property
    def seconds_per_frame(self) -> float:
        return self.hop / self.sample_rate


OFFICIAL = FrontEnd()
AUDIOLDM_48K = FrontEnd(sample_rate=48_000, n_fft=2048, hop=480, n_mels=256, f_min=20.0, f_max=24_000.0,
                        original_arithmetic=True)
KNOWN = {OFFICIAL.sample_rate: OFFICIAL, AUDIOLDM_48K.sample_rate: AUDIOLDM_48K}


def prepare_waveform(wave: np.ndarray) -> tuple[np.ndarray, float]:
    """Remove DC and scale the peak to 0.5; return the waveform and the gain applied (1.0 for silence)."""
    wave = np.asarray(wave, dtype=np.float64)
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


def log_mel(wave: np.ndarray, front: FrontEnd = OFFICIAL) -> np.ndarray:
    """Log-mel spectrogram of mono audio at `front.sample_rate`, shaped (frames, n_mels), one frame per hop
    (len // hop frames); by default the 16 kHz models' 64 bins and hop 160.

    No normalisation happens here: call `prepare_waveform` first, as the model's training data was.
    """
    from transformers.audio_utils import spectrogram

    samples = len(wave)
    if front.original_arithmetic:
        return _original_log_mel(wave, front)[:samples // front.hop]
    wave = np.asarray(wave, dtype=np.float64)
    if wave.size < front.n_fft // 2 + 1:  # reflect padding needs more than half a window
        wave = np.pad(wave, (0, front.n_fft // 2 + 1 - wave.size))
    filters, window = _filters_and_window(front)
    mel = spectrogram(wave, window, frame_length=front.n_fft, hop_length=front.hop, power=1.0, center=True,
                      pad_mode="reflect", mel_filters=filters, mel_floor=LOG_FLOOR, log_mel="log",
                      dtype=np.float64)
    frames = samples // front.hop
    return mel.T[:frames].astype(np.float32)


@lru_cache(maxsize=2)
def _dft_kernel(front: FrontEnd):
    """The periodic-Hann-windowed real and imaginary DFT rows 0..n_fft/2 as a float32 conv1d kernel, and the mel
    filters as float32 (n_mels, bins)."""
    import torch

    filters, window = _filters_and_window(front)
    cutoff = front.n_fft // 2 + 1
    basis = np.fft.fft(np.eye(front.n_fft))[:cutoff]
    kernel = torch.tensor(np.concatenate([basis.real, basis.imag])[:, None, :], dtype=torch.float32)
    kernel = kernel * torch.tensor(window, dtype=torch.float32)
    return kernel, torch.tensor(filters.T, dtype=torch.float32)


def _original_log_mel(wave: np.ndarray, front: FrontEnd) -> np.ndarray:
    """(frames, n_mels) in the original code's arithmetic: float32 reflect padding by n_fft/2, a strided float32
    convolution with the windowed DFT basis, magnitude, float32 mel product, log of clamp(x, 1e-5)."""
    import torch

    kernel, filters = _dft_kernel(front)
    audio = torch.tensor(np.asarray(wave, np.float32))
    if audio.numel() < front.n_fft // 2 + 1:  # reflect padding needs more than half a window
        audio = torch.nn.functional.pad(audio, (0, front.n_fft // 2 + 1 - audio.numel()))
    half = front.n_fft // 2
    with torch.no_grad():
        audio = torch.nn.functional.pad(audio[None, None, None], (half, half, 0, 0), mode="reflect")[:, 0]
        spectrum = torch.nn.functional.conv1d(audio, kernel, stride=front.hop)[0]
        cutoff = half + 1
        magnitude = torch.sqrt(spectrum[:cutoff] ** 2 + spectrum[cutoff:] ** 2)
        mel = torch.matmul(filters, magnitude)
        return torch.log(torch.clamp(mel, min=LOG_FLOOR)).T.numpy()
