"""Transform (audio-to-audio) with the tiny pipeline: identity at strength 0, bit-exact outside the range."""

import numpy as np
import pytest

from core.audio.clip import Clip, load_clip, save_clip
from core.cli.main import main
from core.errors import InputError
from core.generation import sampling
from core.incontext import transform as transforming
from core.incontext.regenerate import GenerationSettings

FAST = GenerationSettings(prompt="a knock on a metal door", steps=4, seed=7)


@pytest.fixture(scope="module")
def knock(corpus_files):
    clip = load_clip(next(p for p in corpus_files if p.name.startswith("music")))
    return Clip(clip.samples[: 2 * clip.sample_rate], clip.sample_rate)  # 2 s stereo keeps it quick


def test_strength_zero_returns_the_input_unchanged(tiny_engine, knock):
    result = transforming.transform(tiny_engine, knock, 0.0, 0.5, 1.5, FAST)
    out = result.best.clip
    assert out.sample_rate == knock.sample_rate and np.array_equal(out.samples, knock.samples)
    assert out.samples is not knock.samples and result.best.settings["strength"] == 0.0


def test_outside_the_range_is_bit_exact_and_inside_is_new(tiny_engine, knock):
    totals = []
    result = transforming.transform(tiny_engine, knock, 0.5, 0.5, 1.25, FAST,
                                    progress=lambda p: totals.append((p.stage, p.total)))
    out = result.best.clip
    f0, f1 = round(0.5 * knock.sample_rate), round(1.25 * knock.sample_rate)
    assert out.samples.shape == knock.samples.shape and out.sample_rate == knock.sample_rate
    assert np.array_equal(out.samples[:f0], knock.samples[:f0])
    assert np.array_equal(out.samples[f1:], knock.samples[f1:])
    assert not np.allclose(out.samples[f0:f1], knock.samples[f0:f1])
    assert np.isfinite(out.samples).all()
    assert ("denoising", 2) in totals  # strength 0.5 of 4 steps runs the last 2
    assert result.best.settings["operation"] == "transform" and result.best.settings["strength"] == 0.5


def test_the_whole_clip_transforms_when_no_range_is_given(tiny_engine, knock):
    out = transforming.transform(tiny_engine, knock, 1.0, settings=FAST).best.clip
    assert out.samples.shape == knock.samples.shape and not np.allclose(out.samples, knock.samples)


def test_denoising_from_a_latent_starts_at_the_strengths_step(tiny_engine):
    pipe = tiny_engine.pipeline
    scheduler = sampling.make_scheduler(pipe, "ddim")
    scheduler.set_timesteps(10)
    clean = np.ones((1, 8, 4, 16), np.float32)
    import torch

    x0, eps = torch.from_numpy(clean), torch.zeros(1, 8, 4, 16)
    t = scheduler.timesteps[10 - sampling.steps_for_strength(10, 0.3)]
    a = float(scheduler.alphas_cumprod[int(t)])
    assert torch.allclose(sampling.noised_to(scheduler, x0, eps, t), x0 * a ** 0.5)
    assert [sampling.steps_for_strength(10, s) for s in (0.0, 0.01, 0.3, 1.0)] == [0, 1, 3, 10]


@pytest.mark.parametrize("strength,start,end,match", [(1.5, 0, 1, "strength"), (-0.1, 0, 1, "strength"),
                                                      (0.5, 1.5, 1.0, "range"), (0.5, 0, 3.0, "range")])
def test_bad_values_are_one_clear_error(tiny_engine, knock, strength, start, end, match):
    with pytest.raises(InputError, match=match):
        transforming.transform(tiny_engine, knock, strength, start, end, FAST)


def test_cli_transform(tiny_model_dir, knock, tmp_path, capsys):
    src, out = tmp_path / "knock.wav", tmp_path / "metal.wav"
    save_clip(knock, src, subtype="float32")
    code = main(["transform", str(src), "--prompt", "a knock on a metal door", "--strength", "0.6", "--start",
                 "0.5", "--end", "1.0", "--steps", "2", "--seed", "3", "--model", str(tiny_model_dir), "-o", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    result = load_clip(out)
    f0, f1 = round(0.5 * knock.sample_rate), round(1.0 * knock.sample_rate)
    assert result.samples.shape == knock.samples.shape
    assert np.abs(result.samples[:f0] - knock.samples[:f0]).max() < 1e-4  # 16-bit file: quantisation only
    assert np.abs(result.samples[f1:] - knock.samples[f1:]).max() < 1e-4

    code = main(["transform", str(src), "--prompt", "x", "--strength", "2", "--model", str(tiny_model_dir)])
    _, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1 and "strength" in err and "Traceback" not in err
    code = main(["transform", str(src), "--prompt", "x", "--model", str(tmp_path / "no-such-model")])
    _, err = capsys.readouterr()
    assert code == 3 and err.count("\n") == 1
