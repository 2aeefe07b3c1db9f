"""The engine on a tiny pipeline loaded through the user path (local folder in the official layout)."""

import numpy as np
import pytest
from engine_checks import assert_cancel_is_honoured_within_one_step

from core.errors import Cancelled, InputError
from core.generation.engine import Engine
from core.generation.requests import GenerationRequest

FAST = dict(seconds=1.0, steps=3)


def test_generation_gives_audio_of_the_requested_length(tiny_engine):
    result = tiny_engine.generate(GenerationRequest("rain on a tin roof", seed=1, **FAST))
    clip = result.best.clip
    assert clip.sample_rate == 16_000 and clip.channels == 1 and clip.frames == 16_000
    assert np.isfinite(clip.samples).all() and np.abs(clip.samples).max() > 0
    assert result.licence and result.model_id == str(tiny_engine.resolved.folder)


def test_candidates_are_ranked_best_first_with_their_own_seeds(tiny_engine):
    result = tiny_engine.generate(GenerationRequest("a dog barking", seed=100, candidates=3, **FAST))
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == 3  # the tiny CLAP really tells the takes apart
    assert sorted(c.seed for c in result.candidates) == [100, 101, 102]
    assert [c.rank for c in result.candidates] == [0, 1, 2]
    assert all(-1.0 <= s <= 1.0 for s in scores)


def test_same_request_and_seed_give_the_same_audio(tiny_engine):
    request = GenerationRequest("footsteps on gravel", seed=5, **FAST)
    first = tiny_engine.generate(request).best.clip.samples
    again = tiny_engine.generate(request).best.clip.samples
    other = tiny_engine.generate(GenerationRequest("footsteps on gravel", seed=6, **FAST)).best.clip.samples
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


def test_a_candidate_is_reproduced_alone_by_its_seed_and_settings(tiny_engine):
    batch = tiny_engine.generate(GenerationRequest("thunder", seed=40, candidates=3, **FAST))
    pick = batch.candidates[-1]
    alone = tiny_engine.generate(GenerationRequest(**pick.settings))
    assert alone.best.seed == pick.seed
    np.testing.assert_allclose(alone.best.clip.samples, pick.clip.samples, atol=1e-4)


def test_progress_reports_every_denoising_step(tiny_engine):
    seen = []
    tiny_engine.generate(GenerationRequest("wind", seed=3, seconds=1.0, steps=4), progress=seen.append)
    denoise = [(p.step, p.total) for p in seen if p.stage == "denoising"]
    assert denoise == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert [p.stage for p in seen][0] == "encoding" and seen[-1].stage == "scoring"


def test_cancel_is_honoured_within_one_step(tiny_engine):
    assert_cancel_is_honoured_within_one_step(tiny_engine)


def test_a_cancel_callable_works_too(tiny_engine):
    with pytest.raises(Cancelled):
        tiny_engine.generate(GenerationRequest("wind", **FAST), cancel=lambda: True)


def test_ddim_and_negative_prompt_change_the_result(tiny_engine):
    base = GenerationRequest("birds chirping", seed=9, **FAST)
    plain = tiny_engine.generate(base).best.clip.samples
    ddim = tiny_engine.generate(GenerationRequest("birds chirping", seed=9, scheduler="ddim", **FAST))
    negative = tiny_engine.generate(GenerationRequest("birds chirping", seed=9, negative_prompt="noise", **FAST))
    assert ddim.best.clip.frames == 16_000
    assert not np.allclose(plain, ddim.best.clip.samples)
    assert not np.allclose(plain, negative.best.clip.samples)


def test_bad_requests_fail_before_the_model_is_touched(tmp_path):
    engine = Engine(tmp_path / "does-not-exist", device="cpu")
    with pytest.raises(InputError, match="steps"):
        engine.generate(GenerationRequest("rain", steps=0))
    assert not engine.loaded


def test_a_speech_request_needs_a_speech_model(tiny_engine):
    with pytest.raises(InputError, match="not a speech model"):
        tiny_engine.generate(GenerationRequest("a man speaking", transcription="hello", **FAST))


def test_odd_durations_keep_exact_lengths(tiny_engine):
    result = tiny_engine.generate(GenerationRequest("rain", seed=2, seconds=0.37, steps=2))
    assert result.best.clip.frames == round(0.37 * 16_000)


def test_unknown_device_is_bad_input(tiny_model_dir):
    with pytest.raises(InputError, match="device 'tpu' is unknown"):
        Engine(tiny_model_dir, device="tpu")
