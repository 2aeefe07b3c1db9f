"""The CPU's compiled UNet graph built by a child process (core.generation.precompile) with real inductor (a C++
compiler is needed: .ci/run installs g++), loaded from disk by the engine, and by a later engine without any
compile: what makes a second start cheap and keeps the app's interpreter free while the child compiles."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from core.generation import compiled, precompile
from core.generation.engine import Engine
from core.generation.requests import GenerationRequest


def take(engine: Engine, seed: int = 5) -> np.ndarray:
    result = engine.generate(GenerationRequest("rain on a tin roof", seconds=10.0, steps=2, seed=seed))
    return result.candidates[0].clip.samples


def test_stand_in_inputs_keep_the_shapes_dtypes_and_layouts_the_graph_is_compiled_for():
    sample = torch.randn(2, 8, 16, 4).to(memory_format=torch.channels_last)
    inputs = precompile.describe_inputs((sample, torch.tensor(999)),
                                        {"mask": torch.ones(2, 32, dtype=torch.int64), "return_dict": False,
                                         "states": None})
    args = [precompile._stand_in(a) for a in inputs["args"]]
    kwargs = {k: precompile._stand_in(v) for k, v in inputs["kwargs"].items()}
    assert args[0].shape == sample.shape and args[0].stride() == sample.stride() and args[0].dtype == sample.dtype
    assert args[1].shape == () and args[1].dtype == torch.int64
    assert kwargs["mask"].dtype == torch.int64 and kwargs["return_dict"] is False and kwargs["states"] is None
    with pytest.raises(TypeError, match="cannot describe a list input"):
        precompile.describe_inputs(([1],), {})


def test_a_child_process_compiles_the_unet_and_a_later_engine_loads_it_without_compiling(
        tiny_model_dir, monkeypatch, caplog):
    monkeypatch.setenv("LOA_COMPILE", "auto")
    monkeypatch.delenv(compiled.BACKEND_ENV, raising=False)  # real inductor
    engine = Engine(tiny_model_dir, device="cpu", precision="bf16")
    eager = take(engine)  # runs eager while the child compiles the 10.24 s bucket's graph (started at load)
    stage = engine.fast.stages["unet"]
    assert precompile.source_folder(stage.module) == str(tiny_model_dir / "unet")
    engine.fast.wait()
    assert not stage.broken and stage.ready and stage.saved.keys() == stage.ready  # loaded from the child's file
    traced_here = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    before = dict(stage.calls)
    compiled_take = take(engine)
    assert stage.calls["compiled"] - before["compiled"] == 2  # 2 steps, one guided call each: the bucket's graph both times
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == traced_here  # nothing traced in this process
    # The same take up to bf16 rounding (which a random tiny model amplifies), not another take.
    distance = lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(b))  # noqa: E731
    assert compiled_take.shape == eager.shape
    assert distance(compiled_take, eager) < 0.2 < 1.0 < distance(take(engine, seed=6), eager)
    files = list((compiled.Path(compiled.use_disk_cache()) / "loa-precompiled").glob("unet-*.bin"))
    assert len(files) == 1  # the 10.24 s bucket's graph

    # A later one-shot engine (like `loa generate`): the saved graph loads in the foreground, no child runs.
    def no_child(*_args, **_kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(precompile, "compile_in_child", no_child)
    later = Engine(tiny_model_dir, device="cpu", precision="bf16", background_compile=False)
    again = take(later)
    later_stage = later.fast.stages["unet"]
    assert later_stage.calls["eager"] == 0 and later_stage.calls["compiled"] == 2
    np.testing.assert_allclose(again, compiled_take, atol=1e-6)  # the same graph, the same seed

    # A graph file that does not load: that engine runs eager, and the file goes (the next start builds it again).
    (graph_file,) = files
    good = graph_file.read_bytes()
    graph_file.write_bytes(b"not a graph")
    broken = Engine(tiny_model_dir, device="cpu", precision="bf16", background_compile=False)
    np.testing.assert_allclose(take(broken), eager, atol=1e-6)
    assert broken.fast.stages["unet"].broken and not graph_file.exists()
    graph_file.write_bytes(good)

    # Inputs the graph was not compiled for (another layout) run eager with a warning, and the take still comes.
    key = next(iter(later_stage.ready))
    real_call = later_stage.saved[key]
    later_stage.saved[key] = lambda *a, **k: real_call(a[0].transpose(2, 3).contiguous().transpose(2, 3), *a[1:], **k)
    with caplog.at_level(logging.WARNING, logger="core.generation.compiled"):
        odd = take(later)
    assert "does not fit this call" in caplog.text and key not in later_stage.ready
    np.testing.assert_allclose(odd, eager, atol=1e-6)


def test_a_second_process_wanting_the_same_graph_waits_for_the_first_and_then_finds_its_file(tmp_path):
    import subprocess
    import sys
    import time

    out = tmp_path / "loa-precompiled" / "unet-x.bin"
    waiter = ("import sys, time; from pathlib import Path; from core.generation import precompile\n"
              "out = Path(sys.argv[1]); print('locking', flush=True); t = time.monotonic()\n"
              "with precompile.compiling_lock(out):\n"
              "    print(out.exists(), round(time.monotonic() - t, 1))\n")
    with precompile.compiling_lock(out):
        other = subprocess.Popen([sys.executable, "-c", waiter, str(out)], stdout=subprocess.PIPE, text=True,
                                 cwd=str(compiled.Path(__file__).resolve().parents[1]))
        assert other.stdout.readline().strip() == "locking"
        time.sleep(1.0)  # the other process is blocked meanwhile
        assert other.poll() is None
        out.write_bytes(b"graph")
    found, waited = other.communicate(timeout=60)[0].split()
    assert found == "True" and float(waited) >= 0.9


def test_a_compiled_cpu_kernel_runs_without_holding_the_interpreter(monkeypatch, tmp_path):
    """Inductor's binding kept the GIL through each fused kernel: a Python thread (the GUI's) waited for all of it."""
    import threading
    import time

    from core.generation import cpu_kernels

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path))
    assert cpu_kernels.release_interpreter_in_kernels()

    def long_fused(x):  # one fused loop over the tensor: a single long kernel
        for _ in range(4):
            x = torch.sin(x) * 1.01 + torch.cos(x)
        return x

    x = torch.randn(32, 1024, 1024)
    kernel = torch.compile(long_fused, backend="inductor", fullgraph=True)
    with torch.inference_mode():
        expected = long_fused(x)
        kernel(x)  # compiled
        longest, running = [0.0], [True]

        def sleeper():
            last = time.perf_counter()
            while running[0]:
                time.sleep(0.002)
                now = time.perf_counter()
                longest[0], last = max(longest[0], now - last), now

        thread = threading.Thread(target=sleeper)
        thread.start()
        started = time.perf_counter()
        out = kernel(x)
        took = time.perf_counter() - started
        running[0] = False
        thread.join()
    assert torch.allclose(out, expected, atol=1e-4)
    assert took > 0.1 and longest[0] < took / 3, (took, longest[0])
