"""Our prompt encoder (both halves batched, GPT-2 rolled out with its key/value cache) against the stock
pipeline's `encode_prompt` on the same tiny pipelines: the same tensors to float rounding, in every case the
engine uses (guidance on and off, several candidates, a negative prompt shorter and longer than the prompt, no
negative prompt, the speech kind's transcription)."""

from __future__ import annotations

import pytest
import torch

from core.generation import prompt_encoder
from core.models.loading import load_pipeline

CPU = torch.device("cpu")


def close(ours: torch.Tensor, stock: torch.Tensor) -> None:
    assert ours.shape == stock.shape and ours.dtype == stock.dtype
    ours, stock = ours.double(), stock.double()
    assert torch.linalg.norm(ours - stock) <= 1e-5 * max(torch.linalg.norm(stock), 1e-12)


@pytest.fixture(scope="module")
def tiny_pipe(tiny_model_dir):
    return load_pipeline(tiny_model_dir, CPU, torch.float32)


@pytest.fixture(scope="module")
def speech_pipe(tiny_speech_model_dir):
    return load_pipeline(tiny_speech_model_dir, CPU, torch.float32)


CASES = [
    ("a dog barks in the rain", "low quality", True, 1),
    ("glass", "muffled, noisy, distorted recording of a crowd far away", True, 2),  # negative cut to the prompt's length
    ("thunder rolling over hills at night", None, True, 3),  # the empty negative prompt
    ("rain on a tin roof", "hum", False, 2),  # no guidance: no negative half
]


@pytest.mark.parametrize("prompt, negative, guided, candidates", CASES)
def test_the_batched_cached_encoder_gives_the_stock_pipelines_tensors(tiny_pipe, prompt, negative, guided,
                                                                      candidates):
    with torch.inference_mode():
        stock = tiny_pipe.encode_prompt(prompt, CPU, candidates, guided, negative_prompt=negative)
        ours = prompt_encoder.encode_prompt(tiny_pipe, prompt, CPU, candidates, guided, negative_prompt=negative)
    assert len(ours) == 3
    close(ours[0], stock[0])  # T5 states
    assert torch.equal(ours[1], stock[1])  # their mask
    close(ours[2], stock[2])  # GPT-2 states
    assert ours[0].shape[0] == candidates * (2 if guided else 1)


@pytest.mark.parametrize("guided, candidates", [(True, 1), (True, 2), (False, 1)])
def test_the_speech_kind_encodes_as_stock_does(speech_pipe, guided, candidates):
    kwargs = dict(transcription="Hello there, this is a test.", negative_prompt="noise")
    with torch.inference_mode():
        stock = speech_pipe.encode_prompt("A woman speaks slowly", CPU, candidates, guided, **kwargs)
        ours = prompt_encoder.encode_prompt(speech_pipe, "A woman speaks slowly", CPU, candidates, guided, **kwargs)
    close(ours[0], stock[0])
    assert torch.equal(ours[1].to(stock[1].dtype), stock[1])
    close(ours[2], stock[2])


def test_the_rollout_runs_each_step_on_one_new_position_for_both_halves(tiny_pipe):
    """What makes it fast: one pass over the whole prompt for both halves together, then one position per
    step, instead of two full-sequence passes per step."""
    gpt2 = getattr(tiny_pipe.language_model, "transformer", tiny_pipe.language_model)
    seen = []
    hook = gpt2.register_forward_pre_hook(lambda m, a, kw: seen.append(tuple(kw["inputs_embeds"].shape[:2])),
                                          with_kwargs=True)
    try:
        with torch.inference_mode():
            prompt_encoder.encode_prompt(tiny_pipe, "a dog barks", CPU, 1, True, negative_prompt="quiet",
                                         max_new_tokens=8)
    finally:
        hook.remove()
    assert len(seen) == 8 and seen[0][0] == 2 and seen[0][1] > 1
    assert all(shape == (2, 1) for shape in seen[1:])
