"""Numeric precision per pipeline stage (text encoders, UNet, VAE decoder, vocoder), chosen per device.

`--precision auto|fp32|bf16|fp16` (CLI), the window's Compute menu and `Engine(precision=...)` all end here.
`auto` picks what was measured fastest with the fidelity held (docs/developers.md, "Speed"):
  CUDA            fp16 everywhere; the VAE decode falls back to fp32 when fp16 overflows (non-finite output)
  CPU + AVX-512 BF16  bf16 UNet and vocoder (its last two upsampling stages and post conv stay fp32); VAE decoder
                      and text encoders fp32. Measured at full size (benchmarks/decode_stages.py): a bf16 VAE
                      decoder alone puts the waveform 0.011 from fp32 (0.0100 even with its whole last block
                      fp32), over the 1e-2 bound; an fp32 VAE with this vocoder gives 0.0069, 0.0080 with the
                      bf16 UNet's latent error (0.0036) on top.
                      The 48 kHz (FiLM) model keeps its UNet fp32 too (`for_model`, applied when it loads).
  MPS, other CPUs fp32 everywhere
The pipeline loads in the text encoders' dtype; `apply` then casts the UNet, VAE and vocoder in place and wraps
their calls so they take and give the loaded dtype: the scheduler's arithmetic and the latents stay in it.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, fields, replace
from typing import Any, Callable

import torch

from core.devices.compute import PRECISION_ENV, PRECISIONS
from core.errors import InputError

AUTO_VOCODER_FP32_STAGES = 2  # auto on a bf16 CPU: the vocoder's last stages kept fp32 (fidelity, see above)
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
NAMES = {v: k for k, v in DTYPES.items()}


@functools.lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (x86 AVX-512 BF16 or AMX; Arm's BF16 extension)."""
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        flags = ""
    if any(f in flags.split() for f in ("avx512_bf16", "amx_bf16", "bf16")):
        return True
    try:  # other platforms: what oneDNN reports
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@dataclass(frozen=True)
class StagePrecision:
    """The dtype of each stage, and the name the user chose (`requested`) that gave it."""

    text: torch.dtype
    unet: torch.dtype
    vae: torch.dtype
    vocoder: torch.dtype
    requested: str = "auto"
    vae_fp32_fallback: bool = False  # fp16 VAE: redo a decode in fp32 when fp16 overflows
    vae_fp32_tail: bool = False  # keep the VAE decoder's last norm + conv in fp32 (bf16 lands above 1e-2 without)
    vae_fp32_last_block: bool = False  # also the decoder's last up block (the full-resolution one) in fp32
    vocoder_fp32_stages: int | None = None  # a reduced vocoder keeps its post conv and this many last stages fp32

    def describe(self) -> str:
        """One line for logs, notes and the benchmark: `unet bf16, vae bf16, vocoder bf16, text fp32`."""
        out = ", ".join(f"{f.name} {NAMES[getattr(self, f.name)]}" for f in fields(self)
                        if isinstance(getattr(self, f.name), torch.dtype))
        if self.vocoder_fp32_stages and self.vocoder != torch.float32:
            out += f" (its last {self.vocoder_fp32_stages} stages fp32)"
        return out

    @property
    def reduced(self) -> bool:
        """Any stage below fp32 (the benchmark's fidelity bound is 1e-2 then, 1e-4 otherwise)."""
        return any(d != torch.float32 for d in (self.text, self.unet, self.vae, self.vocoder))


def default_precision() -> str:
    """The process's default: LOA_PRECISION when it names one of PRECISIONS (the window's Compute menu and
    `loa batch --precision` set it), else auto."""
    value = os.environ.get(PRECISION_ENV, "").strip().lower()
    return value if value in PRECISIONS else "auto"


def check_precision(name: str) -> str:
    if name not in PRECISIONS:
        raise InputError(f"precision {name!r} is unknown; use one of {', '.join(PRECISIONS)}.")
    return name


def resolve(requested: str, device: torch.device | str, cpu_bf16: bool | None = None) -> StagePrecision:
    """The per-stage dtypes for `requested` on `device`. `cpu_bf16` overrides the CPU check (tests)."""
    check_precision(requested)
    kind = torch.device(device).type
    if requested == "auto":
        if kind == "cuda":
            return StagePrecision(*[torch.float16] * 4, requested, vae_fp32_fallback=True)
        bf16 = cpu_has_bf16() if cpu_bf16 is None else cpu_bf16
        if kind == "cpu" and bf16:
            return StagePrecision(torch.float32, torch.bfloat16, torch.float32, torch.bfloat16, requested,
                                  vocoder_fp32_stages=AUTO_VOCODER_FP32_STAGES)
        return StagePrecision(*[torch.float32] * 4, requested)
    dtype = DTYPES[requested]
    if kind == "cpu" and dtype != torch.float32:
        # Text encoders stay fp32 on the CPU: they run once per prompt (cached), and GPT-2's rollout drifts in half.
        return StagePrecision(torch.float32, dtype, dtype, dtype, requested,
                              vae_fp32_fallback=dtype == torch.float16, vae_fp32_tail=dtype == torch.bfloat16)
    return StagePrecision(dtype, dtype, dtype, dtype, requested, vae_fp32_fallback=dtype == torch.float16)


def for_model(plan: StagePrecision, kind: str) -> StagePrecision:
    """`plan` for a model of `kind`: `auto` on a CPU runs the 48 kHz (FiLM) model's UNet in fp32. Its bf16 UNet put
    the full-size waveform 0.0099-0.0194 from the stock fp32 pipeline's (random weights, three draws), at or over
    the 1e-2 bound, where the base model's stays at 0.0083; with it fp32, 0.0058-0.0068 (docs/developers.md)."""
    from core.models.kinds import is_film

    if plan.requested == "auto" and is_film(kind) and plan.unet == torch.bfloat16:  # the CPU auto plan
        return replace(plan, unet=torch.float32)
    return plan


# ---- applying a plan to a loaded pipeline ----------------------------------------------------------------------

def _cast(value: Any, dtype: torch.dtype) -> Any:
    if isinstance(value, torch.Tensor) and value.is_floating_point() and value.dtype != dtype:
        return value.to(dtype)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_cast(v, dtype) for v in value)
    return value


def _cast_output(out: Any, dtype: torch.dtype) -> Any:
    """Floating tensors in `out` (a tensor, a tuple, or a diffusers output dataclass) to `dtype`."""
    if isinstance(out, (torch.Tensor, tuple)):
        return _cast(out, dtype)
    if hasattr(out, "keys"):  # diffusers BaseOutput: keep its class, replace its tensors
        for key in list(out.keys()):
            out[key] = _cast(out[key], dtype)
            setattr(out, key, out[key])
    return out


def cast_call(fn: Callable, dtype: torch.dtype, first_arg_dtype: bool = True) -> Callable:
    """`fn` run on inputs cast to `dtype`, its outputs cast back to the first argument's dtype."""

    def call(*args, **kwargs):
        back = args[0].dtype if args and isinstance(args[0], torch.Tensor) else None
        out = fn(*_cast(args, dtype), **{k: _cast(v, dtype) for k, v in kwargs.items()})
        return _cast_output(out, back) if back is not None and first_arg_dtype else out

    call.__wrapped__ = fn
    return call


def keep_fp32(module: torch.nn.Module) -> None:
    """`module` (inside a reduced-precision model) in fp32: its weights, and its inputs on the way in."""
    module.float()
    module.register_forward_pre_hook(lambda _m, args: _cast(args, torch.float32))


def _finite(out: Any) -> bool:
    sample = out[0] if isinstance(out, tuple) else getattr(out, "sample", out)
    return bool(torch.isfinite(sample).all())


def apply(pipe, plan: StagePrecision) -> None:
    """Cast the pipeline's UNet, VAE decoder and vocoder to the plan's dtypes and wrap their calls (once per
    pipeline; the text encoders are in the load dtype already). The VAE's encoder keeps the load dtype, so user
    audio encodes (continuation, inpainting, transform) exactly as before."""
    if getattr(pipe, "_loa_precision", None) is not None:
        raise RuntimeError("precision already applied to this pipeline; load it again to change it")
    pipe._loa_precision = plan
    unet = pipe.unet
    if unet.dtype != plan.unet:
        unet.to(plan.unet)
        unet.forward = cast_call(unet.forward, plan.unet)
    from core.generation import cpu_attention

    cpu_attention.install(unet)  # a bf16 UNet on an AVX-512 BF16 CPU: our self-attention kernel
    apply_vocoder(pipe.vocoder, plan)
    apply_vae(pipe.vae, plan)


def vocoder_tail(vocoder, stages: int) -> list[torch.nn.Module]:
    """The HiFi-GAN vocoder's last `stages` upsampling stages (each an upsampler and its resblocks) and its
    post conv: the modules closest to the waveform."""
    n, k = len(vocoder.upsampler), vocoder.num_kernels
    out: list[torch.nn.Module] = []
    for i in range(max(0, n - stages), n):
        out += [vocoder.upsampler[i], *vocoder.resblocks[i * k:(i + 1) * k]]
    return out + [vocoder.conv_post]


def apply_vocoder(vocoder, plan: StagePrecision) -> None:
    if vocoder.dtype == plan.vocoder:
        return
    vocoder.to(plan.vocoder)
    if plan.vocoder_fp32_stages is not None and plan.vocoder != torch.float32:
        for module in vocoder_tail(vocoder, plan.vocoder_fp32_stages):
            keep_fp32(module)
    vocoder.forward = cast_call(vocoder.forward, plan.vocoder)


def apply_vae(vae, plan: StagePrecision) -> None:
    original = vae.decode
    if vae.decoder.conv_in.weight.dtype != plan.vae:
        vae.post_quant_conv.to(plan.vae)
        vae.decoder.to(plan.vae)
        if plan.vae_fp32_last_block:
            keep_fp32(vae.decoder.up_blocks[-1])
        if plan.vae_fp32_tail or plan.vae_fp32_last_block:
            keep_fp32(vae.decoder.conv_norm_out)
            keep_fp32(vae.decoder.conv_out)
        vae.decode = cast_call(original, plan.vae)
    if plan.vae_fp32_fallback and plan.vae == torch.float16:
        vae.decode = _with_fp32_fallback(vae, vae.decode, original)


def _with_fp32_fallback(vae, decode: Callable, original: Callable) -> Callable:
    """`decode` in fp16; when fp16 overflows (inf/NaN out), the VAE moves to fp32 for good and this and every
    later decode run `original` in fp32 (diffusers' `force_upcast` does the same for image VAEs)."""

    def call(z, *args, **kwargs):
        if not getattr(vae, "loa_upcast", False):
            out = decode(z, *args, **kwargs)
            if _finite(out):
                return out
            vae.to(torch.float32)
            vae.loa_upcast = True
        return _cast_output(original(z.float(), *args, **kwargs), z.dtype)

    call.__wrapped__ = decode
    return call


def plan_of(pipe) -> StagePrecision | None:
    """The plan `apply` gave this pipeline (None: none applied, every stage in its load dtype)."""
    return getattr(pipe, "_loa_precision", None)
