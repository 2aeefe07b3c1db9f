"""Our bf16 CPU attention kernel (core/generation/cpu_attention.py): built with the machine's g++, checked against
fp32 attention as closely as torch's own bf16 kernel is; the processor that routes a UNet's plain self-attention
to it and hands every other call to the processor it replaced; the operator inside a compiled graph; the build
written atomically."""

from __future__ import annotations

import os

import pytest
import torch
import torch.nn.functional as F

from core.generation import cpu_attention

needs_kernel = pytest.mark.skipif(not cpu_attention.has_instructions(),
                                  reason="the kernel needs an x86 CPU with AVX-512 BF16")


@pytest.fixture(autouse=True)
def kernel_even_beside_amx(monkeypatch):
    """On a CPU with AMX the app leaves attention to torch; these tests ask for the kernel there too."""
    monkeypatch.setenv(cpu_attention.ENV, "on")
    cpu_attention._library.cache_clear()
    yield
    cpu_attention._library.cache_clear()


def relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.norm(a.double() - b.double()) / torch.linalg.norm(b.double()))


@needs_kernel
@pytest.mark.parametrize("batch, length, heads, size, keys", [
    (2, 1024, 8, 32, 1024),  # the full-size UNet's 1024-token level (10.24 s)
    (2, 256, 8, 48, 256),
    (1, 64, 2, 80, 64),
    (1, 37, 1, 16, 128),  # a part block of queries, fewer heads than threads, more keys than queries
])
def test_the_kernel_is_as_close_to_fp32_attention_as_torchs_bf16_kernel(batch, length, heads, size, keys):
    assert cpu_attention.available()
    gen = torch.Generator().manual_seed(length + size)
    q = torch.randn(batch, length, heads, size, generator=gen)
    k, v = (torch.randn(batch, keys, heads, size, generator=gen) for _ in range(2))
    heads_first = lambda t: t.transpose(1, 2)  # noqa: E731 - torch's layout: [batch, heads, length, size]
    exact = heads_first(F.scaled_dot_product_attention(*(heads_first(t) for t in (q, k, v))))
    torch_bf16 = heads_first(F.scaled_dot_product_attention(*(heads_first(t.bfloat16()) for t in (q, k, v))))
    with torch.inference_mode():
        ours = cpu_attention.attention(q.bfloat16(), k.bfloat16(), v.bfloat16())
    assert ours.shape == q.shape and ours.dtype == torch.bfloat16
    assert relative(ours, exact) <= 1.2 * relative(torch_bf16, exact) + 1e-4
    assert relative(ours, exact) < 0.01


def attention_layer(dtype=torch.bfloat16, heads=8, size=32, cross=None):
    """A UNet-style attention layer (self-attention unless `cross` gives the context's width)."""
    from diffusers.models.attention_processor import Attention, AttnProcessor2_0

    torch.manual_seed(0)
    layer = Attention(query_dim=heads * size, cross_attention_dim=cross, heads=heads, dim_head=size,
                      out_bias=True).eval().to(dtype)
    layer.set_processor(AttnProcessor2_0())
    return layer


def calls_to_kernel(fn) -> int:
    with torch.profiler.profile() as prof:
        fn()
    return sum(e.count for e in prof.key_averages() if e.key == "loa::attention_bf16")


@needs_kernel
def test_the_processor_sends_plain_bf16_self_attention_to_the_kernel():
    layer = attention_layer()
    x = torch.randn(2, 128, 256).bfloat16()
    with torch.inference_mode():
        exact = attention_layer(torch.float32)(x.float())
        stock = layer(x)
        assert cpu_attention.install(layer) and cpu_attention.installed(layer)
        assert calls_to_kernel(lambda: layer(x)) == 1
        ours = layer(x)
    assert relative(ours, exact) <= 1.2 * relative(stock, exact) + 1e-4


def test_every_other_call_goes_to_the_processor_it_replaced():
    """Cross-attention, a mask, fp32 and head sizes the kernel does not take give the stock processor's
    output bit for bit, whether or not this CPU runs the kernel."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    layer, cross = attention_layer(), attention_layer(cross=96)
    stock, stock_cross = attention_layer(), attention_layer(cross=96)
    for each in (layer, cross):
        each.set_processor(cpu_attention.CpuSelfAttention(AttnProcessor2_0()))
    x, context = torch.randn(2, 64, 256).bfloat16(), torch.randn(2, 8, 96).bfloat16()
    mask = torch.ones(2, 64, dtype=torch.bool)
    mask[:, 40:] = False
    with torch.inference_mode():
        assert torch.equal(cross(x, encoder_hidden_states=context), stock_cross(x, encoder_hidden_states=context))
        assert torch.equal(layer(x, attention_mask=mask), stock(x, attention_mask=mask))
        fp32, fp32_stock = attention_layer(torch.float32), attention_layer(torch.float32)
        fp32.set_processor(cpu_attention.CpuSelfAttention(AttnProcessor2_0()))
        assert torch.equal(fp32(x.float()), fp32_stock(x.float()))
        odd = attention_layer(heads=4, size=24)  # 24: not a multiple of 16
        assert torch.equal(cpu_attention.CpuSelfAttention(AttnProcessor2_0())(odd, x[..., :96]), odd(x[..., :96]))
        assert calls_to_kernel(lambda: cross(x, encoder_hidden_states=context)) == 0
        assert calls_to_kernel(lambda: layer(x, attention_mask=mask)) == 0


def test_install_leaves_fp32_modules_with_torchs_kernel():
    layer = attention_layer(torch.float32)
    assert not cpu_attention.install(layer) and not cpu_attention.installed(layer)


@needs_kernel
def test_the_operator_compiles_into_an_inductor_graph():
    def block(q, k, v):
        return cpu_attention.attention(q * 2, k, v) + 1

    from core.generation.compiled import use_disk_cache

    use_disk_cache()  # inductor's files under this test's cache folder, as the app keeps them under its own
    q, k, v = (torch.randn(1, 64, 2, 32).bfloat16() for _ in range(3))
    compiled = torch.compile(block, fullgraph=True, dynamic=False)
    with torch.inference_mode():
        assert torch.equal(compiled(q, k, v), block(q, k, v))


def test_the_build_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    if cpu_attention._compiler() is None:
        pytest.fail("no C++ compiler: the CPU fast path (inductor) needs g++ too")
    monkeypatch.setenv("CXX", "false")  # a compiler that fails
    with pytest.raises(RuntimeError, match="failed"):
        cpu_attention.build(tmp_path / "broken")
    assert not any((tmp_path / "broken").iterdir())
    monkeypatch.delenv("CXX")
    built = cpu_attention.build(tmp_path / "kernels")
    assert built.exists() and cpu_attention.build(tmp_path / "kernels") == built
    assert os.listdir(tmp_path / "kernels") == [built.name]


@pytest.mark.parametrize("name", ["bf16", "fp32"])
def test_the_precision_plan_routes_a_bf16_unets_attention_through_the_kernel(tiny_model_dir, name):
    from core.generation import precision
    from core.models.loading import load_pipeline

    plan = precision.resolve(name, "cpu")
    pipe = load_pipeline(tiny_model_dir, torch.device("cpu"), plan.text)
    precision.apply(pipe, plan)
    routed = [p for p in pipe.unet.attn_processors.values() if isinstance(p, cpu_attention.CpuSelfAttention)]
    expected = name == "bf16" and cpu_attention.usable()
    assert cpu_attention.installed(pipe.unet) == expected
    assert len(routed) == (len(pipe.unet.attn_processors) if expected else 0) and pipe.unet.attn_processors


def test_a_kernel_that_cannot_be_built_leaves_the_work_to_torchs(monkeypatch):
    """The operator inside a graph still answers when the build failed (here: switched off before the first
    call): torch's kernel in the operator's layout, the same numbers as stock."""
    cpu_attention._library.cache_clear()
    monkeypatch.setenv(cpu_attention.ENV, "off")
    try:
        q, k, v = (torch.randn(2, 64, 4, 32).bfloat16() for _ in range(3))
        with torch.inference_mode():
            out = cpu_attention.attention(q, k, v)
        stock = F.scaled_dot_product_attention(*(t.transpose(1, 2) for t in (q, k, v))).transpose(1, 2)
        assert not cpu_attention.usable() and torch.equal(out, stock) and out.is_contiguous()
    finally:
        monkeypatch.delenv(cpu_attention.ENV)
        cpu_attention._library.cache_clear()


def test_cpus_with_amx_keep_torchs_kernel_unless_asked(monkeypatch):
    avx512_bf16 = {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16", "fma"}
    monkeypatch.setattr(cpu_attention, "_cpu_flags", lambda: frozenset(avx512_bf16 | {"amx_bf16"}))
    monkeypatch.delenv(cpu_attention.ENV)
    assert cpu_attention.has_instructions() and not cpu_attention.cpu_supports()
    monkeypatch.setenv(cpu_attention.ENV, "on")
    assert cpu_attention.cpu_supports()
    monkeypatch.setattr(cpu_attention, "_cpu_flags", lambda: frozenset(avx512_bf16))
    monkeypatch.delenv(cpu_attention.ENV)
    assert cpu_attention.cpu_supports()  # AVX-512 BF16 without AMX: ours serves
    monkeypatch.setattr(cpu_attention, "_cpu_flags", lambda: frozenset(avx512_bf16 - {"avx512_bf16"}))
    monkeypatch.setenv(cpu_attention.ENV, "on")
    assert not cpu_attention.has_instructions() and not cpu_attention.cpu_supports()
