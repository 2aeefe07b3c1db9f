"""The mel front-end against an independent computation (librosa), and the latent encoding."""

import numpy as np
import pytest

from core.audio.clip import load_clip
from core.audio.mel import HOP, log_mel, prepare_waveform


def librosa_log_mel(wave):
    import librosa

    mel = librosa.feature.melspectrogram(y=wave.astype(np.float64), sr=16_000, n_fft=1024, hop_length=160,
                                         win_length=1024, window="hann", center=True, pad_mode="reflect",
                                         power=1.0, n_mels=64, fmin=0.0, fmax=8000.0, htk=False, norm="slaney")
    return np.log(np.maximum(mel, 1e-5)).T[: len(wave) // HOP]


def test_log_mel_matches_librosa_within_1e_4_on_real_recordings(corpus_files):
    for path in corpus_files:
        wave, _ = prepare_waveform(load_clip(path).for_model())
        ours = log_mel(wave)
        assert ours.shape == (len(wave) // HOP, 64), path.name
        assert np.abs(ours - librosa_log_mel(wave)).max() < 1e-4, path.name


def test_prepare_waveform_removes_dc_and_peaks_at_half():
    wave = (np.sin(np.linspace(0, 40, 16_000)) * 0.1 + 0.3).astype(np.float32)
    prepared, gain = prepare_waveform(wave)
    assert abs(prepared.mean()) < 1e-6
    assert np.abs(prepared).max() == pytest.approx(0.5, abs=1e-6)
    assert gain == pytest.approx(0.5 / np.abs(wave - wave.mean()).max(), rel=1e-5)


def test_silence_sits_on_the_log_floor():
    assert np.allclose(log_mel(np.zeros(3200, np.float32)), np.log(1e-5))


def test_a_clip_encodes_to_one_latent_row_per_40_ms(tiny_engine, corpus_files):
    from core.generation.latents import encode_clip

    clip = load_clip(corpus_files[0])
    latent = encode_clip(tiny_engine.pipeline, clip)
    rows = -(-len(clip.for_model()) // 640)
    assert tuple(latent.shape) == (1, 8, rows, 16)
    assert np.array_equal(latent.numpy(), encode_clip(tiny_engine.pipeline, clip).numpy())  # deterministic
