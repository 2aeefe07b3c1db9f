"""The UNet's self-attention on x86 CPUs with AVX-512 BF16 (and no AMX): our kernel instead of torch's flash one.

Why: in a compiled bf16 UNet step (full-size audioldm2, 10.24 s, 2 cores) torch's CPU flash attention took 0.43 of
1.46 s, 18.6 ms per call at the 1024-token level (2 x 8 heads of 32 dims), about a third of what the same
multiplies reach in a GEMM. `kernels/attention_bf16.cpp` computes the same softmax(Q K^T / sqrt(d)) V with bf16
dot-product instructions, fp32 accumulation and an fp32 softmax per row of keys: 8.9-9.7 ms for that call, 0.73
against 1.54 ms at 256 tokens, with the same error against fp32 as the flash kernel (docs/developers.md, "Speed").
On CPUs with AMX, torch's kernel uses it and stays.

It is built at its first call, once per machine, with the C++ compiler inductor needs anyway (g++), into the
app's cache folder, and called through ctypes, which releases the interpreter for the call (the GUI thread runs
meanwhile); a build that fails (a full disk) leaves torch's kernel doing the work, logged once. Registered as
the `loa::attention_bf16` operator so torch.compile keeps it as one opaque call in the UNet's graph. Any call it
does not cover (cross-attention, a mask, fp32, head sizes not a multiple of 16, key counts not a multiple of 64)
goes to the processor it replaced. `LOA_CPU_ATTENTION=off` keeps torch's kernel everywhere.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

import torch

log = logging.getLogger(__name__)

ENV = "LOA_CPU_ATTENTION"
SOURCE = Path(__file__).with_name("kernels") / "attention_bf16.cpp"
FLAGS = ("-O3", "-shared", "-fPIC", "-std=c++17", "-fopenmp", "-mavx512f", "-mavx512bw", "-mavx512vl",
         "-mavx512dq", "-mavx512bf16", "-mfma")
TAG = "loa-attention-bf16-2"  # part of a compiled graph's cache key: graphs built with and without it differ


@functools.lru_cache(maxsize=1)
def _cpu_flags() -> frozenset:
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return frozenset()
    try:
        return frozenset(open("/proc/cpuinfo").read().split())
    except OSError:
        return frozenset()


def has_instructions() -> bool:
    """x86 with the AVX-512 BF16 instructions the kernel is built from."""
    return {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16", "fma"} <= _cpu_flags()


def cpu_supports() -> bool:
    """A CPU the kernel serves: the instructions, and no AMX (torch's own kernel runs on AMX tiles there) unless
    LOA_CPU_ATTENTION=on asks for ours anyway (comparisons; its tests on such a machine)."""
    forced = os.environ.get(ENV, "").strip().lower() == "on"
    return has_instructions() and ("amx_bf16" not in _cpu_flags() or forced)


def _compiler() -> Optional[str]:
    return os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")


def build(folder: Path) -> Path:
    """The kernel's shared library in `folder`, compiled first if this source and these flags have not been
    (written to a temporary name and renamed, so processes building at once never load a half-written file)."""
    compiler = _compiler()
    if compiler is None:
        raise RuntimeError("no C++ compiler (g++) found")
    digest = hashlib.sha1(SOURCE.read_bytes() + repr((FLAGS, compiler)).encode()).hexdigest()[:16]
    target = folder / f"attention_bf16-{digest}.so"
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(suffix=".so", dir=folder)
    os.close(fd)
    try:
        done = subprocess.run([compiler, *FLAGS, str(SOURCE), "-o", temp], capture_output=True, text=True,
                              timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"{compiler} failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}")
        os.replace(temp, target)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return target


def usable() -> bool:
    """Whether the kernel can serve this process: a CPU it supports, a compiler to build it, not switched off.
    Nothing is built here (models whose heads the kernel does not take never build it)."""
    switched_off = os.environ.get(ENV, "").strip().lower() in ("off", "0", "no", "false")
    return not switched_off and cpu_supports() and _compiler() is not None


@functools.lru_cache(maxsize=1)
def _library() -> Optional[ctypes.CDLL]:
    """The loaded kernel, built first if needed; None where it cannot be (logged once)."""
    if not usable():
        return None
    from core.paths import cache_dir

    try:
        lib = ctypes.CDLL(str(build(cache_dir() / "kernels")))
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        # Not the user's concern (torch's kernel does the same work, slower), so not a warning on their terminal.
        log.info("the CPU attention kernel is not available (%s); torch's kernel runs", exc)
        return None
    fn = lib.loa_attention_bf16
    fn.argtypes = [ctypes.c_void_p] * 4 + [ctypes.c_int] * 5 + [ctypes.c_float, ctypes.c_int]
    fn.restype = ctypes.c_int
    return lib


def available() -> bool:
    """Whether the kernel is built and loaded (building it now if it can be)."""
    return _library() is not None


def covers(q: torch.Tensor, k: torch.Tensor) -> bool:
    """Whether the kernel takes these [batch, length, heads, head size] inputs."""
    return (q.device.type == "cpu" and q.dtype == k.dtype == torch.bfloat16 and q.dim() == 4
            and q.shape[-1] % 16 == 0 and 16 <= q.shape[-1] <= 128 and k.shape[1] % 64 == 0)


@torch.library.custom_op("loa::attention_bf16", mutates_args=())
def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v for [batch, length, heads, head size] bf16 tensors, as that layout."""
    lib = _library()
    if lib is None:  # the build failed: torch's kernel, in its own layout
        heads_first = [t.transpose(1, 2) for t in (q, k, v)]
        return torch.nn.functional.scaled_dot_product_attention(*heads_first).transpose(1, 2).contiguous()
    q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
    out = torch.empty_like(q)
    batch, length, heads, size = q.shape
    status = lib.loa_attention_bf16(q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr(), batch, heads,
                                           length, k.shape[1], size, size ** -0.5, torch.get_num_threads())
    if status != 0:
        raise ValueError(f"attention kernel refused shapes q {tuple(q.shape)} k {tuple(k.shape)}")
    return out


@attention.register_fake
def _(q, k, v):
    return torch.empty_like(q, memory_format=torch.contiguous_format)


class CpuSelfAttention:
    """A diffusers attention processor: plain self-attention through the kernel, anything else through the
    processor it replaced (same arithmetic as diffusers' AttnProcessor2_0 for the calls it takes)."""

    def __init__(self, fallback) -> None:
        self.fallback = fallback

    def _plain(self, attn, hidden_states, encoder_hidden_states, attention_mask) -> bool:
        return (encoder_hidden_states is None and attention_mask is None and hidden_states.dim() == 3
                and attn.spatial_norm is None and attn.group_norm is None and attn.norm_q is None
                and attn.norm_k is None and not attn.residual_connection and attn.rescale_output_factor == 1.0)

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, *args,
                 **kwargs):
        if self._plain(attn, hidden_states, encoder_hidden_states, attention_mask):
            batch, length, _ = hidden_states.shape
            q, k, v = (proj(hidden_states) for proj in (attn.to_q, attn.to_k, attn.to_v))
            size = k.shape[-1] // attn.heads
            q, k, v = (t.view(batch, length, attn.heads, size) for t in (q, k, v))
            if covers(q, k):
                out = attention(q, k, v).reshape(batch, length, attn.heads * size)
                return attn.to_out[1](attn.to_out[0](out))
        return self.fallback(attn, hidden_states, encoder_hidden_states, attention_mask, temb, *args, **kwargs)


def install(module: torch.nn.Module) -> bool:
    """Route the module's attention layers through the kernel when it is a bf16 module on a CPU that the kernel
    serves; True when installed (then `TAG` belongs in its compiled graphs' keys)."""
    first = next(module.parameters(), None)
    if first is None or first.device.type != "cpu" or first.dtype != torch.bfloat16 or not usable():
        return False
    from diffusers.models.attention_processor import Attention

    for layer in module.modules():
        if isinstance(layer, Attention) and not isinstance(layer.processor, CpuSelfAttention):
            layer.set_processor(CpuSelfAttention(layer.processor))
    module._loa_cpu_attention = TAG
    return True


def installed(module: torch.nn.Module) -> bool:
    """Whether `install` routed this module's attention through the kernel."""
    return getattr(module, "_loa_cpu_attention", None) == TAG
