"""The 48 kHz model through every in-context operation, on real recordings at their own rates (the original
repository leaves inpainting and style transfer undone for it): the user's samples outside the regenerated range
stay bit for bit, at the source's rate and channels; seams snap to the model's 80 ms latent rows; bar-locked takes
are sample-exact at 48 kHz."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.clip import Clip, load_clip
from core.generation.bar_locked import BarLock, generate_bars
from core.generation.requests import GenerationRequest
from core.incontext.in_clip import close_loop_in, continue_at
from core.incontext.regenerate import GenerationSettings, close_loop, continue_clip, extend_loop, inpaint
from core.incontext.transform import transform

SETTINGS = GenerationSettings(prompt="a bell rings", steps=2, seed=3, candidates=2)


@pytest.fixture(scope="module")
def engine48(tiny_48k_model):
    from core.generation.engine import Engine

    return Engine(tiny_48k_model, device="cpu")


@pytest.fixture(scope="module")
def music44(corpus_files) -> Clip:
    """3 s of a 44.1 kHz stereo recording."""
    clip = load_clip(next(p for p in corpus_files if p.name.startswith("music_intro_44k")))
    assert (clip.sample_rate, clip.channels) == (44_100, 2)
    return Clip(clip.samples[: 3 * 44_100], 44_100)


def test_the_engine_states_the_48k_geometry(engine48):
    geometry = engine48.geometry
    assert (engine48.sample_rate, geometry.samples_per_row, geometry.vae_factor) == (48_000, 3840, 8)


def test_continue_a_44k_source_keeps_its_samples_and_rate(engine48, music44):
    result = continue_clip(engine48, music44, 0.7, SETTINGS)
    xf = round(0.02 * 44_100)
    assert len(result.candidates) == 2
    for candidate in result.candidates:
        out = candidate.clip
        assert (out.sample_rate, out.channels, out.frames) == (44_100, 2, music44.frames + round(0.7 * 44_100))
        assert np.array_equal(out.samples[: music44.frames - xf], music44.samples[: music44.frames - xf])
        assert np.abs(out.samples[music44.frames:]).max() > 0  # the model's audio follows
    assert result.candidates[0].clip.samples.tobytes() != result.candidates[1].clip.samples.tobytes()


def test_inpaint_a_44k_source_leaves_the_outside_bit_exact(engine48, music44):
    start, end = 1.1, 1.6
    result = inpaint(engine48, music44, start, end, SETTINGS)
    f0, f1 = round(start * 44_100), round(end * 44_100)
    for candidate in result.candidates:
        out = candidate.clip.samples
        assert out.shape == music44.samples.shape and candidate.clip.sample_rate == 44_100
        assert np.array_equal(out[:f0], music44.samples[:f0]) and np.array_equal(out[f1:], music44.samples[f1:])
        assert not np.array_equal(out[f0:f1], music44.samples[f0:f1])


def test_transform_a_selection_of_a_44k_source(engine48, music44):
    result = transform(engine48, music44, 0.6, 0.5, 1.5, SETTINGS)
    f0, f1 = round(0.5 * 44_100), round(1.5 * 44_100)
    for candidate in result.candidates:
        out = candidate.clip.samples
        assert out.shape == music44.samples.shape
        assert np.array_equal(out[:f0], music44.samples[:f0]) and np.array_equal(out[f1:], music44.samples[f1:])
        assert not np.array_equal(out[f0:f1], music44.samples[f0:f1])
        assert candidate.settings["operation"] == "transform"


def test_extend_a_loop_by_bars_at_48k_is_sample_exact(engine48, music44):
    loop48 = music44.resampled(48_000)
    result = extend_loop(engine48, loop48, 1, bpm=97.0, settings=SETTINGS)
    added = round(4 * 60 / 97.0 * 48_000)
    for candidate in result.candidates:
        out = candidate.clip
        assert (out.sample_rate, out.frames) == (48_000, loop48.frames + added)
        keep = loop48.frames - round(0.02 * 48_000)
        assert np.array_equal(out.samples[:keep], loop48.samples[:keep])


def test_close_a_loop_and_continue_inside_a_clip(engine48, music44):
    closed = close_loop(engine48, music44, 0.5, SETTINGS).best.clip
    tail = round(0.5 * 44_100)
    assert closed.frames == music44.frames
    assert np.array_equal(closed.samples[: music44.frames - tail - round(0.02 * 44_100)],
                          music44.samples[: music44.frames - tail - round(0.02 * 44_100)])
    inside = close_loop_in(engine48, music44, 0.3, start=0.5, end=2.5, settings=SETTINGS).best.clip
    f0, f1 = round(0.5 * 44_100), round(2.5 * 44_100)
    assert np.array_equal(inside.samples[:f0], music44.samples[:f0])
    assert np.array_equal(inside.samples[f1:], music44.samples[f1:])
    at = continue_at(engine48, music44, 0.4, at=2.0, settings=SETTINGS).best.clip
    cut = round(2.0 * 44_100)
    assert at.frames == music44.frames + round(0.4 * 44_100)
    assert np.array_equal(at.samples[-(music44.frames - cut):], music44.samples[cut:])


@pytest.mark.parametrize("ending", ["fade", "close-loop"])
def test_bar_locked_takes_of_the_48k_model_are_sample_exact(engine48, ending):
    request = GenerationRequest(prompt="drum loop", steps=2, candidates=2, seed=3)
    result = generate_bars(engine48, request, BarLock(bars=1, bpm=97.0, ending=ending))
    for candidate in result.candidates:
        assert candidate.clip.sample_rate == 48_000
        assert candidate.clip.frames == round(4 * 60 / 97.0 * 48_000) == 118_763
