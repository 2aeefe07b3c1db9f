"""The 48 kHz model's mel front-end against the original AudioLDM 2 code's computation (tests/reference_mel.py,
written from its formulas: the code itself is CC BY-NC-SA 4.0), on real recordings; and the model's geometry read
from its configs."""

import numpy as np
import pytest
from reference_mel import reference_log_mel

from core.audio.clip import load_clip
from core.audio.mel import AUDIOLDM_48K, OFFICIAL, FrontEnd, log_mel, prepare_waveform

# get_audioldm_48k_config()["preprocessing"] in the original repository (audioldm2/utils.py)
ORIGINAL_48K = dict(sample_rate=48_000, n_fft=2048, hop=480, win=2048, n_mels=256, f_min=20, f_max=24_000)


def original_prepare(wave):
    """tools.normalize_wav, then read_wav_file's second peak scaling to 0.5."""
    wave = wave - np.mean(wave)
    wave = wave / (np.max(np.abs(wave)) + 1e-8) * 0.5
    return (0.5 * wave / np.max(np.abs(wave))).astype(np.float32)


def test_the_48k_front_end_matches_the_original_mel_code_within_1e_5_on_real_recordings(corpus_files):
    worst = 0.0
    for path in corpus_files:
        wave48 = load_clip(path).for_model(48_000)[: 48_000 * 6]
        ours_prepared, _ = prepare_waveform(wave48)
        theirs_prepared = original_prepare(wave48.astype(np.float64))
        assert np.abs(ours_prepared - theirs_prepared).max() <= 1e-6, path.name
        ours = log_mel(ours_prepared, AUDIOLDM_48K)
        theirs = reference_log_mel(theirs_prepared, **ORIGINAL_48K).T
        assert ours.shape == (len(wave48) // 480, 256), path.name
        assert theirs.shape[0] == len(wave48) // 480 + 1  # the original's last frame is centred past the end
        diff = float(np.abs(ours - theirs[: len(ours)]).max())
        assert diff <= 1e-5, (path.name, diff)
        worst = max(worst, diff)
    print(f"48 kHz front-end vs the original's computation: max abs diff {worst:.2e} over {len(corpus_files)} files")


def test_the_reference_tells_the_48k_front_end_from_a_wrong_one(corpus_files):
    """The check can fail: band edges 0-8000 Hz or a 1024-point STFT (the 16 kHz models' values) are far off."""
    wave, _ = prepare_waveform(load_clip(corpus_files[0]).for_model(48_000))
    theirs = reference_log_mel(wave, **ORIGINAL_48K).T
    for wrong in (FrontEnd(48_000, 2048, 480, 256, 0.0, 8000.0, True), FrontEnd(48_000, 1024, 480, 256, 20.0,
                                                                                   24_000.0, True)):
        assert np.abs(log_mel(wave, wrong) - theirs[: len(wave) // 480]).max() > 0.1


def test_the_48k_model_states_its_front_end_and_latent_rows(tiny_48k_model):
    from core.models.geometry import folder_geometry, geometry_problem, model_front_end

    assert model_front_end(tiny_48k_model) == AUDIOLDM_48K
    geometry = folder_geometry(tiny_48k_model)
    assert (geometry.rate, geometry.vae_factor, geometry.samples_per_row) == (48_000, 8, 3840)
    assert geometry.row_seconds == pytest.approx(0.08)
    assert geometry_problem(tiny_48k_model) is None


def test_a_16k_vocoder_config_still_gives_the_16k_front_end():
    assert FrontEnd.from_vocoder_config({"sampling_rate": 16_000, "upsample_rates": [5, 4, 2, 2, 2],
                                         "model_in_dim": 64}) == OFFICIAL
