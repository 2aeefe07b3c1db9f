"""benchmarks/bench_48k.py builds the 48 kHz model through the converter: its full-size layout (on the meta device,
no memory) has the real model's geometry, and at small widths the same builder gives a pipeline our engine runs
and whose latents match the stock diffusers AudioLDMPipeline's. No timing is asserted."""

from __future__ import annotations

import pytest
import torch

from benchmarks import bench_48k

SMALL = dict(unet=dict(mc=32, mult=(1, 2), res=1, attn=(2,), sites=2),
             vae=dict(ch=32, mult=(1, 1, 2, 2), res=1, z=16),
             vocoder=dict(initial=64, rb_kernels=(3,)),
             text=dict(vocab_size=600, max_position_embeddings=96, type_vocab_size=1, hidden_size=64,
                       num_hidden_layers=1, num_attention_heads=1, intermediate_size=64), projection=(64, 512))


def test_the_full_size_48k_builder_has_the_real_models_geometry_on_the_meta_device():
    from diffusers.pipelines.audioldm2 import AudioLDM2UNet2DConditionModel
    from tiny_original_audioldm import roberta_tokenizer

    from core.models import original_convert as conv
    from core.models.original_format import infer_architecture

    state = bench_48k.original_48k_state("meta")
    arch = infer_architecture(state)
    assert arch.known["sampling_rate"] == 48_000 and arch.known["hop"] == 480
    assert arch.unet.block_out_channels == (128, 256, 384, 640) and arch.unet.heads == (4, 8, 12, 20)
    assert arch.unet.transformers_per_site == 2 and arch.unet.layers_per_block == 2
    assert arch.vae.block_out_channels == (128, 256, 512, 1024) and arch.vae.latent_channels == 16
    assert arch.vocoder.initial_channel == 1536 and arch.vocoder.num_mels == 256
    assert (arch.text.hidden_size, arch.text.layers, arch.text.heads, arch.text.vocab_size) == (768, 12, 12, 50265)
    with torch.device("meta"):
        parts = {n: conv.build_component(n, state, arch, roberta_tokenizer()) for n in ("unet", "vae", "vocoder")}
    assert isinstance(parts["unet"], AudioLDM2UNet2DConditionModel)
    assert parts["unet"].config.sample_size == 128  # 10.24 s: 1024 mel frames / 8
    assert parts["vocoder"].config.sampling_rate == 48_000
    assert all(p.device.type == "meta" for part in parts.values() for p in part.parameters())


@pytest.mark.filterwarnings("ignore")
def test_the_builder_at_small_widths_runs_through_the_engine_and_matches_the_stock_pipeline(monkeypatch):
    from core.generation import sampling
    from core.generation.engine import Engine

    torch.manual_seed(0)
    pipe = bench_48k.random_48k_pipeline(widths=SMALL)
    pipe.set_progress_bar_config(disable=True)
    assert type(pipe).__name__ == "AudioLDMPipeline" and sampling.sample_rate(pipe) == 48_000
    assert pipe.unet.config.block_out_channels == (32, 64)
    monkeypatch.setattr(bench_48k, "SECONDS", 0.64)
    engine = Engine.from_pipeline(pipe, "random:small48k")
    figures = bench_48k._stock_48k(pipe, engine, steps=2)
    assert figures["relative_l2_latents_ours_vs_stock"] < 1e-4


def test_the_stage_clock_times_the_48k_pipelines_own_stages_and_unwraps_them():
    from benchmarks.stage_clock import stage_clock
    from core.generation.engine import Engine

    torch.manual_seed(0)
    pipe = bench_48k.random_48k_pipeline(widths=SMALL)
    pipe.set_progress_bar_config(disable=True)
    engine = Engine.from_pipeline(pipe, "random:small48k")
    with stage_clock(pipe, engine, targets=bench_48k.STAGES_48K) as seconds:
        engine.generate(bench_48k._request(1, 0.64))
    assert set(seconds) == {"encode", "vae_decode", "vocoder", "ranking"}
    assert all(seconds[stage] > 0 for stage in ("encode", "vae_decode", "vocoder")), seconds
    assert "_encode_prompt" not in vars(pipe) and "decode" not in vars(pipe.vae)  # the wrappers are gone


def test_the_builder_draws_the_same_weights_whatever_the_callers_random_state():
    torch.manual_seed(1)
    first = bench_48k.random_48k_pipeline(widths=SMALL)
    torch.manual_seed(2)
    second = bench_48k.random_48k_pipeline(widths=SMALL)
    for part in ("unet", "vae", "vocoder", "text_encoder"):
        a, b = getattr(first, part).state_dict(), getattr(second, part).state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), part
