"""The documented ranges hold end to end: every scheduler at the maximum step count, prompts of any length."""

import numpy as np
import pytest
import torch

from core.generation import sampling
from core.generation.prompts import fit_prompt, token_limit
from core.generation.requests import MAX_STEPS, SCHEDULERS, GenerationRequest

LONG_PROMPT = " ".join(["rain on a tin roof"] * 30)  # 150 words: past both tiny tokenizers' 77-token windows


@pytest.mark.parametrize("name", SCHEDULERS)
def test_every_scheduler_runs_all_of_the_documented_maximum_steps(tiny_engine, name):
    """The official "leading" spacing asks DDIM for timestep 1000 at step 0 and overruns DPM-Solver++'s sigmas at
    its last step; the solver arithmetic that crashed runs here over all 1000 steps."""
    pipe = tiny_engine.pipeline
    scheduler = sampling.make_scheduler(pipe, name, MAX_STEPS)
    scheduler.set_timesteps(MAX_STEPS)
    timesteps = scheduler.timesteps.numpy()
    assert len(timesteps) == MAX_STEPS and len(set(timesteps.tolist())) == MAX_STEPS
    assert timesteps.max() < scheduler.config.num_train_timesteps and timesteps.min() >= 0
    generator = torch.Generator().manual_seed(0)
    latents = torch.randn(1, 8, 4, 4, generator=generator) * scheduler.init_noise_sigma
    for t in scheduler.timesteps:
        noise_pred = torch.randn(latents.shape, generator=generator) * 0.1
        latents = scheduler.step(noise_pred, t, latents).prev_sample
    assert torch.isfinite(latents).all()


@pytest.mark.parametrize("name", SCHEDULERS)
def test_the_models_own_spacing_is_kept_where_it_works(tiny_engine, name):
    """Seeds saved before the fix still reproduce: step counts that always worked keep their timesteps."""
    pipe = tiny_engine.pipeline
    for steps in (1, 25, 200, MAX_STEPS - 1):
        kept = sampling.make_scheduler(pipe, name, steps)
        assert kept.config.timestep_spacing == pipe.scheduler.config.timestep_spacing


@pytest.mark.parametrize("name", SCHEDULERS)
def test_a_long_run_on_every_scheduler_gives_finite_audio(tiny_engine, name):
    result = tiny_engine.generate(GenerationRequest("rain", seconds=0.1, steps=60, guidance=1.0, seed=3,
                                                    scheduler=name))
    assert np.isfinite(result.best.clip.samples).all()


def test_a_prompt_past_the_text_window_is_cut_at_a_word_for_encoding_and_ranking(tiny_engine):
    result = tiny_engine.generate(GenerationRequest(LONG_PROMPT, seconds=0.5, steps=2, candidates=2, seed=4))
    used = result.prompt_used
    assert used and LONG_PROMPT.startswith(used) and LONG_PROMPT[len(used)] == " "
    assert all(c.score is not None and -1 <= c.score <= 1 for c in result.candidates)
    assert all(c.settings["prompt_used"] == used for c in result.candidates)
    assert result.request.prompt == LONG_PROMPT  # the record keeps what the user typed
    assert len(result.notes) == 1 and "words were used" in result.notes[0]
    pipe = tiny_engine.pipeline
    for tokenizer in (pipe.tokenizer, pipe.tokenizer_2):
        assert len(tokenizer(used).input_ids) <= token_limit(pipe, tokenizer)
    # The cut prompt is exactly what is encoded and scored: giving it directly yields the same audio and scores.
    same = tiny_engine.generate(GenerationRequest(used, seconds=0.5, steps=2, candidates=2, seed=4))
    assert same.prompt_used is None and same.notes == []
    assert np.array_equal(same.best.clip.samples, result.best.clip.samples)
    assert [c.score for c in same.candidates] == [c.score for c in result.candidates]


def test_scoring_a_long_prompt_directly_does_not_overrun_clap(tiny_engine):
    waves = np.zeros((1, 16_000), dtype=np.float32)
    assert -1 <= tiny_engine.score(LONG_PROMPT, waves)[0] <= 1


def test_a_prompt_that_fits_is_not_touched(tiny_engine):
    assert fit_prompt(tiny_engine.pipeline, "rain on a tin roof", speech=False) is None


def test_a_long_voice_description_is_cut_on_a_speech_model(tiny_speech_engine):
    from core.speech import SpeechRequest, speak

    result = speak(tiny_speech_engine, SpeechRequest(text="hello there", voice=LONG_PROMPT, seconds=0.5, steps=2,
                                                     seed=1))
    assert result.prompt_used and LONG_PROMPT.startswith(result.prompt_used)
    assert result.best.score is not None


def test_the_cli_says_when_the_prompt_was_cut(tiny_model_dir, tmp_path, capsys):
    from core.audio.provenance import read_sidecar
    from core.cli.main import main

    out = tmp_path / "long.wav"
    code = main(["generate", LONG_PROMPT, "--model", str(tiny_model_dir), "--seconds", "0.5", "--steps", "2",
                 "--seed", "2", "-o", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("loa: note:")]
    assert len(notes) == 1 and "words were used" in notes[0]
    sidecar = read_sidecar(out)
    assert sidecar["prompt"] == LONG_PROMPT and LONG_PROMPT.startswith(sidecar["settings"]["prompt_used"])
