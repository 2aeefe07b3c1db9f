"""An independent reference for the mel front-ends, computed the way the original AudioLDM / AudioLDM 2 code does.

The original code (haoheliu/AudioLDM2, audioldm2/utilities/audio/stft.py TacotronSTFT + audio_processing.py
dynamic_range_compression, used by tools.get_mel_from_wav / utils wav_to_fbank with get_audioldm_48k_config's
"stft" and "mel" settings) is licensed CC BY-NC-SA 4.0, which cannot be copied into this MIT-licensed project, so
this reference is written from the published formulas it implements, step by step, in the same arithmetic:

1. reflect-pad the waveform by n_fft / 2 on both sides;
2. short-time Fourier transform as a float32 convolution with the real and imaginary DFT basis rows
   0..n_fft/2 (np.fft.fft of the identity), each multiplied by a periodic Hann window
   (scipy.signal.get_window("hann", win, fftbins=True), centred in n_fft), stride = hop;
3. magnitude sqrt(re^2 + im^2);
4. mel filters from librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax) (its defaults: Slaney scale, Slaney
   area normalisation), as float32, applied by matrix product;
5. natural log of clamp(x, 1e-5).

The result is (n_mels, frames) with frames = len // hop + 1, as the original returns before its caller transposes
and pads to the target length.
"""

from __future__ import annotations

import numpy as np
import torch


def reference_log_mel(wave: np.ndarray, sample_rate: int, n_fft: int, hop: int, win: int, n_mels: int,
                      f_min: float, f_max: float) -> np.ndarray:
    import librosa
    from scipy.signal import get_window

    cutoff = n_fft // 2 + 1
    basis = np.fft.fft(np.eye(n_fft))
    basis = np.vstack([np.real(basis[:cutoff, :]), np.imag(basis[:cutoff, :])])
    window = get_window("hann", win, fftbins=True)
    window = np.pad(window, ((n_fft - win) // 2, n_fft - win - (n_fft - win) // 2))
    kernel = torch.tensor(basis[:, None, :], dtype=torch.float32) * torch.tensor(window, dtype=torch.float32)

    audio = torch.tensor(np.asarray(wave, np.float32))[None, None, :]
    audio = torch.nn.functional.pad(audio[:, None], (n_fft // 2, n_fft // 2, 0, 0), mode="reflect")[:, 0]
    spectrum = torch.nn.functional.conv1d(audio, kernel, stride=hop)
    magnitude = torch.sqrt(spectrum[:, :cutoff] ** 2 + spectrum[:, cutoff:] ** 2)

    filters = torch.tensor(librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=f_min, fmax=f_max),
                           dtype=torch.float32)
    mel = torch.matmul(filters, magnitude)
    return torch.log(torch.clamp(mel, min=1e-5))[0].numpy()
