"""Channels-last memory layouts for the decode stages on a CPU (oneDNN's fast convolution kernels want them).

The vocoder (HiFi-GAN) is all 1-D convolutions over long signals with few channels (32-512 channels, up to 164k
samples for a 10 s clip). Torch runs those as 2-D convolutions on its NCHW layout, where oneDNN's kernels for
them are slow: one 32-channel convolution of the last stage took 12.4 ms in bf16 there and 2.3 ms in
channels-last (NHWC), and the full-size vocoder of the CPU's auto plan 2.64 s against 1.51 s, the waveform the
same to 1e-6 (Intel Xeon with AMX, 2 cores; docs/developers.md, "Speed"). So each of its convolutions becomes a 2-D one on
channels-last tensors: an [N, C, T] signal stored time-major ([N, T, C] in memory) *is* a channels-last
[N, C, 1, T] image, so the stock forward runs unchanged, its activations and sums keep that order, and no copy
is made between layers. The VAE decoder (2-D already) moves to channels-last too: 2.7 s -> 2.3 s in fp32.

Weights change shape ([out, in, k] -> [out, in, 1, k]), so a pipeline prepared here is for running, not for
saving; the engine never saves one.
"""

from __future__ import annotations

import platform

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

CHANNELS_LAST = torch.channels_last


class Conv1dAsChannelsLast2d(nn.Module):
    """A Conv1d or ConvTranspose1d run as the 2-D convolution of height 1 on channels-last tensors. Takes and
    gives [N, C, T]; the output is stored time-major (the layout the next convolution reads without a copy)."""

    def __init__(self, conv: nn.Conv1d | nn.ConvTranspose1d) -> None:
        super().__init__()
        self.transposed = isinstance(conv, nn.ConvTranspose1d)
        weight = conv.weight.detach().unsqueeze(2).contiguous(memory_format=CHANNELS_LAST)
        self.weight = nn.Parameter(weight, requires_grad=False)
        self.bias = None if conv.bias is None else nn.Parameter(conv.bias.detach(), requires_grad=False)
        self.stride, self.padding, self.dilation = (1, conv.stride[0]), (0, conv.padding[0]), (1, conv.dilation[0])
        self.output_padding = (0, conv.output_padding[0]) if self.transposed else (0, 0)
        self.groups = conv.groups

    def forward(self, signal: torch.Tensor) -> torch.Tensor:
        image = signal.unsqueeze(2)
        if not image.is_contiguous(memory_format=CHANNELS_LAST):
            image = image.contiguous(memory_format=CHANNELS_LAST)  # the vocoder's input only (a channel-major mel)
        if self.transposed:
            out = F.conv_transpose2d(image, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                     self.groups, self.dilation)
        else:
            out = F.conv2d(image, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        return out.squeeze(2)


def _convertible(module: nn.Module) -> bool:
    return (isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)) and module.padding_mode == "zeros"
            and not isinstance(module.padding, str) and not parametrize.is_parametrized(module)
            and not hasattr(module, "weight_g"))  # weight norm (either kind) recomputes its weight each call


def convs_as_channels_last(model: nn.Module) -> int:
    """Swap every plain 1-D convolution inside `model` for its channels-last 2-D twin, in place; returns how many.
    Call it before casting stages to other dtypes: hooks that keep a module in fp32 belong on the new modules."""
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if _convertible(child):
                setattr(parent, name, Conv1dAsChannelsLast2d(child))
                swapped += 1
    return swapped


def usable() -> bool:
    """x86 CPUs with oneDNN, where it was measured; other CPUs (Arm) keep torch's layout."""
    return platform.machine().lower() in ("x86_64", "amd64") and torch.backends.mkldnn.is_available()


def apply(pipe) -> None:
    """The decode stages of a pipeline that runs on the CPU in channels-last (once; a second call does nothing).
    The VAE's encoder keeps its layout: user audio encodes exactly as before."""
    if getattr(pipe, "_loa_cpu_layout", False):
        return
    pipe._loa_cpu_layout = True
    vocoder = getattr(pipe, "vocoder", None)
    if vocoder is not None:
        convs_as_channels_last(vocoder)
    vae = getattr(pipe, "vae", None)
    if vae is not None:
        vae.decoder.to(memory_format=CHANNELS_LAST)
        if getattr(vae, "post_quant_conv", None) is not None:
            vae.post_quant_conv.to(memory_format=CHANNELS_LAST)
