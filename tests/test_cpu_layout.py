"""Channels-last decode stages on the CPU (core.generation.cpu_layout): the vocoder's 1-D convolutions as 2-D
channels-last ones and the VAE decoder in channels-last give the same audio as torch's own layout, keep that
layout from layer to layer, and still carry the precision plan's fp32 tail."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from core.generation import cpu_layout, precision, sampling
from core.generation.cpu_layout import Conv1dAsChannelsLast2d
from core.generation.engine import Engine
from core.generation.requests import GenerationRequest
from core.models.loading import load_pipeline

FP32, BF16 = torch.float32, torch.bfloat16


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm())


@pytest.mark.parametrize("make", [
    lambda: nn.Conv1d(6, 10, 3, padding=1),
    lambda: nn.Conv1d(8, 8, 11, dilation=5, padding=25),
    lambda: nn.Conv1d(8, 4, 4, stride=2, padding=1, groups=2, bias=False),
    lambda: nn.ConvTranspose1d(12, 6, 16, stride=8, padding=4),
    lambda: nn.ConvTranspose1d(6, 4, 4, stride=2, padding=1, output_padding=1),
], ids=["plain", "dilated", "strided-grouped-nobias", "upsampler", "output-padding"])
@pytest.mark.parametrize("dtype", [FP32, BF16])
def test_a_converted_convolution_computes_what_the_1d_one_does(make, dtype):
    torch.manual_seed(0)
    conv = make().eval().to(dtype)
    signal = torch.randn(2, conv.in_channels, 37).to(dtype)
    with torch.inference_mode():
        want = conv(signal)
        got = Conv1dAsChannelsLast2d(conv)(signal)
    assert got.shape == want.shape and got.dtype == dtype
    assert rel(got, want) < (1e-6 if dtype == FP32 else 1e-2)
    # Stored time-major: the next layer reads it as a channels-last image without a copy.
    assert got.unsqueeze(2).is_contiguous(memory_format=torch.channels_last)


def test_weight_normed_and_padding_mode_convolutions_are_left_alone():
    model = nn.Sequential(nn.utils.parametrizations.weight_norm(nn.Conv1d(4, 4, 3)),
                          nn.Conv1d(4, 4, 3, padding=1, padding_mode="reflect"), nn.Conv1d(4, 4, 3, padding="same"),
                          nn.Conv1d(4, 4, 3))
    assert cpu_layout.convs_as_channels_last(model) == 1
    assert [isinstance(m, Conv1dAsChannelsLast2d) for m in model] == [False, False, False, True]


def test_the_vocoder_runs_channels_last_layer_to_layer_and_gives_the_same_waveform(tiny_model_dir):
    pipe = load_pipeline(tiny_model_dir, torch.device("cpu"), FP32)
    vocoder = pipe.vocoder
    convs = sum(isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)) for m in vocoder.modules())
    mel = torch.randn(2, 40, vocoder.config.model_in_dim, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        want = vocoder(mel)
        assert cpu_layout.convs_as_channels_last(vocoder) == convs > 10
        assert not any(isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)) for m in vocoder.modules())
        copied = []  # inputs a convolution had to copy into channels-last: none (the mel arrives time-major too)
        for name, module in vocoder.named_modules():
            if isinstance(module, Conv1dAsChannelsLast2d):
                module.register_forward_pre_hook(
                    lambda m, args, name=name: copied.append(name)
                    if not args[0].unsqueeze(2).is_contiguous(memory_format=torch.channels_last) else None)
        got = vocoder(mel)
        unbatched = vocoder(mel[0])
    assert copied == []
    assert got.shape == want.shape and rel(got, want) < 1e-5
    assert rel(unbatched, want[0]) < 1e-5


@pytest.mark.parametrize("plan_name", ["fp32", "auto-bf16"])
def test_a_prepared_pipeline_decodes_as_the_plain_one_and_keeps_the_plans_fp32_tail(tiny_model_dir, plan_name):
    plan = precision.resolve("auto", "cpu", cpu_bf16=True) if plan_name == "auto-bf16" else \
        precision.resolve("fp32", "cpu")
    plain = load_pipeline(tiny_model_dir, torch.device("cpu"), FP32)
    prepared = load_pipeline(tiny_model_dir, torch.device("cpu"), FP32)
    cpu_layout.apply(prepared)
    cpu_layout.apply(prepared)  # once only: a second call changes nothing
    for pipe in (plain, prepared):
        precision.apply(pipe, plan)
    voc = prepared.vocoder
    kept = plan.vocoder_fp32_stages or 0
    for i, up in enumerate(voc.upsampler):
        assert isinstance(up, Conv1dAsChannelsLast2d)
        assert up.weight.dtype == (FP32 if i >= len(voc.upsampler) - kept else plan.vocoder), i
    assert voc.conv_post.weight.dtype == (FP32 if kept else plan.vocoder)
    decoder = prepared.vae.decoder
    assert decoder.up_blocks[-1].resnets[0].conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert not prepared.vae.encoder.down_blocks[0].resnets[0].conv1.weight.is_contiguous(memory_format=torch.channels_last)
    z = torch.randn(1, 8, 16, 16, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        want, got = sampling.decode(plain, z, 8000), sampling.decode(prepared, z, 8000)
    assert got.dtype == np.float32 and got.shape == want.shape
    distance = np.linalg.norm(got - want) / np.linalg.norm(want)
    assert distance < (1e-5 if plan_name == "fp32" else 2e-2)  # bf16 sums in another order, nothing more


def test_the_cpu_engine_renders_through_the_channels_last_stages(tiny_model_dir):
    assert cpu_layout.usable()  # x86 with oneDNN: where the tests run
    engine = Engine(tiny_model_dir, device="cpu", precision="fp32")
    result = engine.generate(GenerationRequest("rain on a tin roof", seconds=1.0, steps=2, seed=3))
    pipe = engine.pipeline
    assert not any(isinstance(m, (nn.Conv1d, nn.ConvTranspose1d)) for m in pipe.vocoder.modules())
    assert pipe.vae.decoder.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
    wave = result.best.clip.samples
    assert len(wave) == 16000 and np.isfinite(wave).all() and np.abs(wave).max() > 0


def test_cpus_without_onednn_keep_torchs_layout(tiny_model_dir, monkeypatch):
    monkeypatch.setattr(cpu_layout, "usable", lambda: False)
    engine = Engine(tiny_model_dir, device="cpu", precision="fp32")
    engine.generate(GenerationRequest("rain on a tin roof", seconds=1.0, steps=2, seed=3))
    assert isinstance(engine.pipeline.vocoder.conv_pre, nn.Conv1d)
