"""Loudness and true peak for the editor (core.editing.measure) against pyloudnorm, a brute-force oversampling
with the BS.1770-4 Annex 2 filter, and soxr."""

import numpy as np
import pytest

from core.audio.clip import Clip
from core.editing import Selection, levels, measure


def brute_true_peak(samples: np.ndarray) -> float:
    """Every 4x oversampled value of every channel (zero outside the clip), and the samples."""
    x = samples.astype(np.float64)
    pad = np.zeros((measure.TAPS - 1, x.shape[1]))
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([pad, x, pad]), measure.TAPS, axis=0)
    return float(max(np.abs(windows @ measure.TRUE_PEAK_PHASES.T).max(), np.abs(x).max()))


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
def test_loudness_matches_pyloudnorm_and_true_peak_is_exact(name, samples, rate):
    import pyloudnorm

    expected = pyloudnorm.Meter(rate).integrated_loudness(samples if samples.shape[1] > 1 else samples[:, 0])
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


def test_normalised_loudness_is_on_target_by_pyloudnorm_and_the_true_peak_limit_holds():
    import pyloudnorm

    rng = np.random.default_rng(7)
    speech_like = rng.standard_normal((48000 * 4, 2)) * 0.02
    speech_like[::4800] *= 30  # sparse peaks: normalising up would clip without the limit
    clip = Clip(speech_like.astype(np.float32), 48000)
    up = levels.normalize_loudness(clip, Selection(), lufs=-16.0, true_peak_limit=-1.0)
    assert "not -16" in up.note  # the limit held it back
    assert brute_true_peak(up.clip.samples) <= 10 ** (-1.0 / 20) * (1 + 1e-5)
    quiet = levels.normalize_loudness(clip, Selection(), lufs=-45.0, true_peak_limit=-1.0)
    assert quiet.note == ""
    assert pyloudnorm.Meter(48000).integrated_loudness(quiet.clip.samples) == pytest.approx(-45.0, abs=0.1)


def _single_pass_energies(samples, rate, edges):
    """Each channel's segment energies from one sosfilt pass in float64 over the whole clip."""
    from scipy.signal import sosfilt

    filtered = sosfilt(measure._k_weighting(rate), samples.astype(np.float64), axis=0)
    sums = np.concatenate([np.zeros((1, samples.shape[1])), np.cumsum(filtered ** 2, axis=0)])
    return (sums[edges[1:]] - sums[edges[:-1]]).T


@pytest.mark.parametrize("channels,rate,seconds", [(1, 48000, 61.3), (2, 44100, 47.05), (5, 16000, 30.0),
                                                    (2, 8000, 0.45)])
def test_lane_filtered_energies_equal_one_pass_over_the_clip(channels, rate, seconds):
    """The 16-lane K-weighting (stretches warmed up from silence) gives every 100 ms segment the energy a
    single pass gives, including the segments right after each stretch starts and a partial last one. The
    signal has a strong 20 Hz part and a DC step, which the filter's slow pole remembers longest."""
    from core.editing import kweighted_lanes

    rng = np.random.default_rng(11)
    frames = int(seconds * rate)
    t = np.arange(frames) / rate
    x = (0.3 * np.sin(2 * np.pi * 20 * t)[:, None] + 0.05 * rng.standard_normal((frames, channels)))
    x[frames // 3:] += 0.4  # a step: the high-pass rings for a while after it
    x = x.astype(np.float32)
    step = rate // 10
    count = -(-frames // step) + 3  # like integrated_loudness: a few empty segments past the end
    edges = np.minimum(step * np.arange(count + 1), frames)
    got = measure._lane_energies(x, measure._k_weighting(rate), edges)
    assert got is not None and kweighted_lanes.available()
    expected = _single_pass_energies(x, rate, edges)
    assert got.shape == expected.shape
    assert (got[:, -3:] == 0).all()
    # float32 filtering of a strong 20 Hz part is good to a few 1e-4 (0.002 dB): the lanes must be as good
    # as the float32 single pass the general path makes
    single_pass = np.stack([measure._segment_energies(x, c, measure._k_weighting(rate), edges)
                            for c in range(channels)])
    live = expected > 0
    lanes_error = np.max(np.abs(got - expected)[live] / expected[live])
    single_error = np.max(np.abs(single_pass - expected)[live] / expected[live])
    assert lanes_error < 1e-3
    assert lanes_error <= max(2e-5, 1.5 * single_error)


def test_loudness_is_the_same_without_numba(monkeypatch):
    from core.editing import kweighted_lanes

    rng = np.random.default_rng(12)
    x = (rng.standard_normal((48000 * 20, 2)) * 0.1).astype(np.float32)
    with_lanes = measure.integrated_loudness(x, 48000)
    monkeypatch.setattr(kweighted_lanes, "available", lambda: False)
    assert measure._lane_energies(x, measure._k_weighting(48000), np.arange(0, 48000 * 20 + 1, 4800)) is None
    assert measure.integrated_loudness(x, 48000) == pytest.approx(with_lanes, abs=1e-4)


def test_warm_up_covers_the_filter_memory():
    from core.editing import kweighted_lanes

    sos = measure._k_weighting(48000)
    frames = kweighted_lanes.warm_up_frames(sos)
    assert 1000 < frames < 48000  # tens of milliseconds at 48 kHz: the 38 Hz high-pass is the slowest part
    from scipy.signal import sosfilt

    impulse = np.zeros(frames + 1)
    impulse[0] = 1.0
    response = np.abs(sosfilt(sos, impulse))
    assert response[-1] < 1e-8 * response.max()


@pytest.mark.parametrize("frames,channels", [(5000, 1), (50_000, 2), (200_003, 3), (3 * 4096, 2)])
def test_oversampled_peak_kernel_equals_the_blas_product(monkeypatch, frames, channels):
    """The numba kernel and the BLAS fallback give the same maximum over any set of blocks (first, last with
    its ring past the end, scattered ones), and both equal brute force over those blocks' outputs."""
    from core.editing import kweighted_lanes

    rng = np.random.default_rng(frames)
    x = (rng.standard_normal((frames, channels)) * 0.1).astype(np.float32)
    x[-1] = 0.8  # the ring after the last sample
    last = (frames - 1) // measure.TRUE_PEAK_BLOCK_FRAMES
    sets = [np.arange(last + 1), np.array([0]), np.array([last]), np.arange(0, last + 1, 3)]
    kernel = [measure._oversampled_peak(x, blocks) for blocks in sets]
    monkeypatch.setattr(kweighted_lanes, "available", lambda: False)
    blas = [measure._oversampled_peak(x, blocks) for blocks in sets]
    assert kernel == pytest.approx(blas, rel=2e-6)
    whole = brute_true_peak(x)
    assert kernel[0] == pytest.approx(whole, rel=1e-5) or whole == pytest.approx(np.abs(x).max())
    monkeypatch.undo()
    only_last = np.zeros_like(x)
    only_last[-1] = 0.8  # every oversampled value near it is 0.8 x a tap: the largest tap, in the ring after
    assert measure._oversampled_peak(only_last, np.array([last])) == pytest.approx(0.8 * 0.97216796875)


def test_kernels_that_cannot_load_fall_back_to_the_same_results(monkeypatch):
    """numba missing, or its kernels failing to load (e.g. no writable cache folder): scipy / BLAS paths."""
    import sys

    from core.editing import kweighted_lanes

    rng = np.random.default_rng(13)
    x = (rng.standard_normal((48000 * 5, 2)) * 0.1).astype(np.float32)
    loudness, peak = measure.integrated_loudness(x, 48000), measure.true_peak(x)
    monkeypatch.setattr(kweighted_lanes, "_usable", None)
    monkeypatch.setitem(sys.modules, "core.editing._kernels", None)  # importing it now raises ImportError
    assert not kweighted_lanes.available()
    assert measure.integrated_loudness(x, 48000) == pytest.approx(loudness, abs=1e-4)
    assert measure.true_peak(x) == pytest.approx(peak, rel=1e-5)
