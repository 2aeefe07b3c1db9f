"""The prompt-encoding cache: a re-roll skips the real encoders and changes nothing in the result."""

import pytest
import torch

from core.generation.engine import Engine
from core.generation.prompt_cache import PromptCache, PromptKey
from core.generation.requests import GenerationRequest

FAST = dict(seconds=0.5, steps=2)


class EncoderCalls:
    """Counts forward calls of the pipeline's real text encoders through forward hooks."""

    PARTS = ("text_encoder", "text_encoder_2", "language_model", "projection_model")

    def __init__(self, pipe):
        self.count = 0
        self.handles = [getattr(pipe, name).register_forward_hook(self._seen) for name in self.PARTS]

    def _seen(self, *_):
        self.count += 1

    def remove(self):
        for handle in self.handles:
            handle.remove()


@pytest.fixture
def engine(tiny_model_dir):
    return Engine(tiny_model_dir, device="cpu")


def latents_of(engine, request):
    latents, _, _ = engine.sample_latents(request.validated())
    return latents


def test_a_reroll_skips_the_encoders_and_matches_an_uncached_run(engine, tiny_model_dir):
    pipe = engine.load()
    calls = EncoderCalls(pipe)
    try:
        latents_of(engine, GenerationRequest("rain on a tin roof", negative_prompt="hiss", seed=1, **FAST))
        assert calls.count > 0
        calls.count = 0
        # New seed, steps, guidance strength and scheduler: same embeddings, so no encoder runs.
        reroll = GenerationRequest("rain on a tin roof", negative_prompt="hiss", seed=7, steps=3, guidance=5.0,
                                   scheduler="ddim", seconds=0.5)
        cached = latents_of(engine, reroll)
        assert calls.count == 0
        assert engine.prompt_cache.hits == 1
    finally:
        calls.remove()
    uncached_engine = Engine(tiny_model_dir, device="cpu")
    uncached_engine.prompt_cache.max_entries = 0  # remembers nothing
    uncached = latents_of(uncached_engine, reroll)
    assert uncached_engine.prompt_cache.hits == 0
    assert torch.equal(cached, uncached)


@pytest.mark.parametrize("change", [dict(prompt="rain on glass"), dict(negative_prompt="noise"),
                                    dict(candidates=2), dict(guidance=1.0)])
def test_anything_that_changes_the_embeddings_encodes_again(engine, change):
    pipe = engine.load()
    base = dict(prompt="rain on a tin roof", negative_prompt="hiss", seed=1, **FAST)
    latents_of(engine, GenerationRequest(**base))
    calls = EncoderCalls(pipe)
    try:
        latents_of(engine, GenerationRequest(**{**base, **change}))
    finally:
        calls.remove()
    assert calls.count > 0


def test_the_cache_empties_when_the_model_is_unloaded_or_replaced(engine):
    engine.generate(GenerationRequest("wind", seed=1, **FAST))
    assert len(engine.prompt_cache) == 1
    engine.unload()
    assert len(engine.prompt_cache) == 0
    pipe = engine.load()
    calls = EncoderCalls(pipe)
    try:
        engine.generate(GenerationRequest("wind", seed=2, **FAST))
    finally:
        calls.remove()
    assert calls.count > 0  # the reloaded model encodes for itself


def test_the_cache_is_bounded_by_entries_and_bytes_least_recent_first():
    cache = PromptCache(max_entries=2, max_bytes=3 * 400)
    key = lambda p: PromptKey(p, "", None, 1, True, None)  # noqa: E731
    tensor = lambda: (torch.zeros(100),)  # noqa: E731  400 bytes
    for p in "abc":
        cache.get_or_encode(key(p), tensor)
    assert len(cache) == 2 and cache.nbytes == 800
    cache.get_or_encode(key("b"), tensor)  # b is now the most recent
    cache.get_or_encode(key("d"), tensor)
    assert cache.misses == 4 and cache.hits == 1
    cache.get_or_encode(key("b"), lambda: pytest.fail("b should still be cached"))
    big = PromptCache(max_entries=8, max_bytes=1000)
    big.get_or_encode(key("a"), lambda: (torch.zeros(1000),))  # larger than the whole budget: not kept
    assert len(big) == 0
