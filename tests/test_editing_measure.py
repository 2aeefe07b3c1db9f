"""Loudness and true peak for the editor (core.editing.measure) against libebur128, a brute-force oversampling
with the same 8x interpolator, and soxr. (tests/test_loudness_reference.py: Tech 3341, ffmpeg, sox.)"""

import numpy as np
import pytest
from loudness_reference import ebur128_lufs

from core.audio.clip import Clip
from core.editing import Selection, gain, measure


def brute_true_peak(samples: np.ndarray) -> float:
    """Every 8x oversampled value of every channel (zero outside the clip), and the samples, in float64."""
    x = samples.astype(np.float64)
    pad = np.zeros((measure.TAPS - 1, x.shape[1]))
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([pad, x, pad]), measure.TAPS, axis=0)
    return float(max(np.abs(windows @ measure.phases().T).max(), np.abs(x).max()))


def signals():
    rng = np.random.default_rng(3)
    t = np.arange(44100 * 2) / 44100
    yield "stereo noise", (rng.standard_normal((48000 * 3, 2)) * 0.1).astype(np.float32), 48000
    yield "mono tone", (0.5 * np.sin(2 * np.pi * 1000 * t))[:, None].astype(np.float32), 44100
    quiet_then_loud = np.concatenate([rng.standard_normal((48000 * 2, 2)) * 0.001,
                                      rng.standard_normal((48000, 2)) * 0.3])
    yield "gated quiet part", quiet_then_loud.astype(np.float32), 48000
    yield "odd length and rate", (rng.standard_normal((22050 * 2 + 7, 2)) * 0.05).astype(np.float32), 22050
    yield "five channels", (rng.standard_normal((16000, 5)) * 0.2).astype(np.float32), 16000
    # 100 ms is 1102.5 frames: the segment sums take the general path, not the whole-segment one
    yield "fractional 100 ms", (rng.standard_normal((11025 * 2 + 3, 2)) * 0.1).astype(np.float32), 11025


@pytest.mark.parametrize("name,samples,rate", list(signals()), ids=[s[0] for s in signals()])
def test_loudness_matches_libebur128_and_true_peak_is_exact(name, samples, rate):
    # libebur128 designs its filters for the rate: at 44.1 and 48 kHz they are BS.1770's curve; at other rates
    # they are up to 0.4 dB off it (8 kHz), so there the reference reads the signal resampled to 48 kHz
    import soxr

    if rate in (44100, 48000):
        expected = ebur128_lufs(samples, rate)
    else:
        expected = ebur128_lufs(soxr.resample(samples.astype(np.float64), rate, 48000, quality="VHQ"), 48000)
    assert measure.integrated_loudness(samples, rate) == pytest.approx(expected, abs=0.01)
    assert measure.true_peak(samples) == pytest.approx(brute_true_peak(samples), rel=1e-5)


def test_true_peak_over_a_threshold_is_exact_above_it_and_bounded_below_it():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((50_000, 2)) * 0.05).astype(np.float32)
    x[31_234, 1] = 0.9  # one loud spike in one block (its ringing is the true peak)
    x[31_235, 1] = -0.9
    x[-1, 0] = 0.5  # the ring past the last sample counts too
    exact = brute_true_peak(x)
    assert exact > 0.9
    for threshold in (0.0, 0.3, exact * 0.99):
        assert measure.true_peak_over(x, threshold) == pytest.approx(exact, rel=1e-5)
    assert measure.true_peak_over(x, exact * 1.5) <= exact * 1.5
    end_only = np.zeros((5000, 1), np.float32)
    end_only[-1] = 0.5
    assert measure.true_peak(end_only) == pytest.approx(brute_true_peak(end_only), rel=1e-5)


def test_true_peak_agrees_with_soxr_oversampling_on_band_limited_audio():
    import soxr

    t = np.arange(48000) / 48000
    x = np.stack([0.7 * np.sin(2 * np.pi * 997 * t + 0.3), 0.5 * np.sin(2 * np.pi * 5003 * t)], axis=1)
    x = x.astype(np.float32)
    reference = np.abs(soxr.resample(x, 48000, 192000, quality="VHQ")).max()
    assert 20 * np.log10(measure.true_peak(x)) == pytest.approx(20 * np.log10(reference), abs=0.05)


def test_normalised_loudness_is_on_target_by_libebur128_and_the_true_peak_limit_holds():
    rng = np.random.default_rng(7)
    speech_like = rng.standard_normal((48000 * 4, 2)) * 0.02
    speech_like[::4800] *= 30  # sparse peaks: normalising up would clip without the limit
    clip = Clip(speech_like.astype(np.float32), 48000)
    up = gain.normalize_loudness(clip, Selection(), lufs=-16.0, true_peak_limit=-1.0)
    assert "not -16" in up.note  # the limit held it back
    assert brute_true_peak(up.clip.samples) <= 10 ** ((-1.0 - gain.TRUE_PEAK_MARGIN_DB) / 20) * (1 + 1e-5)
    quiet = gain.normalize_loudness(clip, Selection(), lufs=-45.0, true_peak_limit=-1.0)
    assert quiet.note == ""
    assert ebur128_lufs(quiet.clip.samples, 48000) == pytest.approx(-45.0, abs=0.02)


def test_true_peak_agrees_with_soxr_8x_on_music(corpus_files):
    import soundfile as sf
    import soxr

    music = next(p for p in corpus_files if p.name.startswith("music_"))
    x, rate = sf.read(str(music), dtype="float32", always_2d=True)
    reference = np.abs(soxr.resample(x, rate, 8 * rate, quality="VHQ")).max()
    assert 20 * np.log10(measure.true_peak(x)) == pytest.approx(20 * np.log10(reference), abs=0.01)


def test_gating_block_count_floors():
    assert measure.gating_blocks(19199, 48000) == 0
    assert measure.gating_blocks(19200, 48000) == 1
    assert measure.gating_blocks(19200 + 4799, 48000) == 1  # 99.98 ms more: no second block
    assert measure.gating_blocks(19200 + 4800, 48000) == 2
    assert measure.gating_blocks(4410 * 10, 44100) == 7  # 1.0 s: (1.0 - 0.4) / 0.1 + 1, exactly
    assert measure.gating_blocks(int(0.66 * 8000), 8000) == 3


def test_silence_and_too_short_audio():
    assert measure.integrated_loudness(np.zeros((48000, 2), np.float32), 48000) == float("-inf")
    from core.errors import InputError

    with pytest.raises(InputError, match="at least 0.4 s"):
        measure.integrated_loudness(np.zeros((19199, 2), np.float32), 48000)


@pytest.mark.parametrize("rate,seconds,channels", [(48000, 20.05, 2), (44100, 7.3, 1), (8000, 3.0, 6)])
def test_numba_lanes_and_the_sosfilt_fallback_agree(monkeypatch, rate, seconds, channels):
    """The 16-lane kernel (kweighted_lanes) and plain scipy give the same loudness, a partial last segment and
    a strong 20 Hz part (the high pass remembers it longest) included."""
    from core.editing import kweighted_lanes

    rng = np.random.default_rng(int(seconds * 100))
    frames = int(seconds * rate)
    t = np.arange(frames) / rate
    x = (0.3 * np.sin(2 * np.pi * 20 * t)[:, None] + 0.05 * rng.standard_normal((frames, channels)))
    x[frames // 3:] += 0.4  # a step: the high-pass rings for a while after it
    x = x.astype(np.float32)
    assert kweighted_lanes.available()
    with_lanes = measure.integrated_loudness(x, rate)
    monkeypatch.setattr(kweighted_lanes, "available", lambda: False)
    assert measure.integrated_loudness(x, rate) == pytest.approx(with_lanes, abs=2e-4)


def test_warm_up_covers_the_filter_memory():
    from scipy.signal import sosfilt

    from core.editing import kweighted_lanes

    frames = kweighted_lanes.warm_up_frames(measure.K_WEIGHTING_48K)
    assert 1000 < frames < 48000  # tens of milliseconds: the 38 Hz high-pass is the slowest part
    impulse = np.zeros(frames + 1)
    impulse[0] = 1.0
    response = np.abs(sosfilt(measure.K_WEIGHTING_48K, impulse))
    assert response[-1] < 1e-8 * response.max()


@pytest.mark.parametrize("frames,channels", [(5000, 1), (50_000, 2), (3 * 4096, 3)])
def test_the_screen_kernel_equals_the_blas_screen_and_the_peak_is_the_same_without_numba(monkeypatch, frames,
                                                                                        channels):
    import sys

    from core.editing import kweighted_lanes

    rng = np.random.default_rng(frames)
    x = (rng.standard_normal((frames, channels)) * 0.1).astype(np.float32)
    x[-1] = 0.8  # the ring after the last sample
    blocks = np.arange(-(-frames // measure.TRUE_PEAK_BLOCK_FRAMES))
    kernel = measure._kernel_screen(x, blocks)
    blas = measure._screen(x, blocks)[:, :kernel.shape[1]]
    np.testing.assert_allclose(kernel, blas, rtol=2e-5, atol=1e-7)
    peak = measure.true_peak(x)
    assert peak == pytest.approx(brute_true_peak(x), rel=1e-5)
    monkeypatch.setattr(kweighted_lanes, "_usable", None)
    monkeypatch.setitem(sys.modules, "core.editing._kernels", None)  # importing it now raises ImportError
    assert not kweighted_lanes.available()
    assert measure.true_peak(x) == pytest.approx(peak, rel=1e-6)
