"""The one engine cache: models beyond the memory budget are unloaded, least recently used first."""

from __future__ import annotations

import gc
import weakref

import pytest

from core.errors import InputError
from core.generation.engine_cache import EngineCache, estimated_bytes, parse_memory


@pytest.fixture
def three_models(tiny_model_dir, tmp_path):
    """Three model folders (links to the tiny model, so each is its own model to the cache)."""
    folders = []
    for name in ("sound", "music", "speech-like"):
        link = tmp_path / name
        link.symlink_to(tiny_model_dir, target_is_directory=True)
        folders.append(str(link))
    return folders


def test_three_models_under_a_budget_of_two_release_the_first(three_models, monkeypatch):
    monkeypatch.setenv("LOA_PRECISION", "fp32")  # resident size = file size (bf16 stages would halve it)
    probe = EngineCache("cpu", budget=10**12)
    size = estimated_bytes(probe.get(three_models[0]))
    assert size > 0
    cache = EngineCache("cpu", budget=int(2.5 * size))
    first = cache.get(three_models[0])
    pipe = first.load()
    weights = weakref.ref(pipe.unet)
    storage = weakref.ref(next(pipe.unet.parameters()))
    del pipe
    cache.get(three_models[1]).load()
    assert first.loaded  # two fit
    cache.get(three_models[2]).load()
    gc.collect()
    assert not first.loaded and cache.unloaded == [three_models[0]]
    assert weights() is None and storage() is None  # nothing holds the first model's weights any more
    assert [m for m, _ in cache.resident()] == [three_models[2], three_models[1]]
    assert all(b > 0 for _, b in cache.resident())

    # Using a model makes it the most recent: loading the first again unloads the second, not the third.
    cache.get(three_models[2])
    cache.get(three_models[0]).load()
    assert [m for m, _ in cache.resident()] == [three_models[0], three_models[2]]
    assert cache.unloaded == [three_models[0], three_models[1]]


def test_the_budget_comes_from_loa_model_memory(monkeypatch, three_models):
    monkeypatch.setenv("LOA_MODEL_MEMORY", "1.5GB")
    assert EngineCache("cpu").budget() == int(1.5 * 2**30)
    monkeypatch.setenv("LOA_MODEL_MEMORY", "1")  # one byte: every load stands alone
    cache = EngineCache("cpu")
    for folder in three_models:
        cache.get(folder).load()
    assert [m for m, _ in cache.resident()] == [three_models[2]]
    monkeypatch.setenv("LOA_MODEL_MEMORY", "lots")
    with pytest.raises(InputError, match="LOA_MODEL_MEMORY='lots' is not a memory size"):
        EngineCache("cpu").budget()


def test_memory_sizes_read_like_people_write_them():
    assert parse_memory("8GB") == 8 * 2**30
    assert parse_memory("6000MB") == 6000 * 2**20
    assert parse_memory(" 7.5 g ") == int(7.5 * 2**30)
    assert parse_memory("123456") == 123456
    for bad in ("", "-1G", "8 bananas", "0"):
        with pytest.raises(InputError):
            parse_memory(bad)


def test_the_default_budget_is_a_share_of_the_machine_on_cpu(monkeypatch):
    from core.generation import engine_cache

    monkeypatch.delenv("LOA_MODEL_MEMORY", raising=False)
    assert EngineCache("cpu").budget() == int(engine_cache.machine_memory() * engine_cache.CPU_SHARE)
