"""A stage's compiled graph built in a child process and saved to disk, then loaded by the app in about a second.

Compiling the full-size UNet takes 1.5-2.5 minutes of the interpreter (dynamo tracing, inductor lowering), and a
later process paid ~20 s again to trace its way to inductor's cached code. Here a child process (`python -m
core.generation.precompile SPEC`) loads the stage's module from its model folder, casts it as the app did, traces
it with stand-in inputs of the bucket's shapes and saves dynamo's ahead-of-time compiled function
(`torch.compile(...).aot_compile`, an experimental torch API). The app loads that file: no tracing, so a second
start costs little, and while the child compiles the app's own interpreter is free (the window kept pausing for
up to 3 s while an in-process compile shared it).

Weights are inputs of the saved graph (the module is its first argument), so the file fits every copy of the
model with the same configuration, dtype and layout; only tensor guards are kept (shapes, dtypes, strides), so
the caller checks them before each call (`guard_check`) and runs eager where they fail.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import torch

log = logging.getLogger(__name__)

CHILD_TIMEOUT_S = 3600  # a cold full-size compile took 95-153 s on a 2-core CPU; far beyond means stuck
NICE = 10  # the child yields the CPU to the generation and the window
_ONE_CHILD = threading.Lock()


def available() -> bool:
    """Whether this torch saves and loads compiled functions (2.13 does; pyproject allows older ones, which compile
    in the process instead)."""
    return hasattr(torch.compiler, "load_compiled_function")


def stage_forward(module: torch.nn.Module, *args, **kwargs):
    """The traced function: the module's class forward, bypassing instance wrappers (the app's precision casts
    and compiled-stage dispatcher are attributes on the instance)."""
    return type(module).forward(module, *args, **kwargs)


def source_folder(module: torch.nn.Module) -> Optional[str]:
    """The folder the module was loaded from (its `config._name_or_path`), or None (built in memory)."""
    path = getattr(getattr(module, "config", None), "_name_or_path", None)
    return str(path) if path and os.path.isfile(os.path.join(str(path), "config.json")) else None


def describe_inputs(args: tuple, kwargs: dict) -> dict:
    """The call's inputs as shapes, dtypes and strides (tensors) or JSON values: what the child traces with."""
    def one(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            return {"tensor": list(value.shape), "dtype": str(value.dtype).replace("torch.", ""),
                    "stride": list(value.stride())}
        if value is None or isinstance(value, (bool, int, float, str)):
            return {"value": value}
        raise TypeError(f"cannot describe a {type(value).__name__} input")

    return {"args": [one(a) for a in args], "kwargs": {k: one(v) for k, v in kwargs.items()}}


def _stand_in(spec: dict) -> Any:
    if "value" in spec:
        return spec["value"]
    dtype = getattr(torch, spec["dtype"])
    shape, stride = spec["tensor"], spec["stride"]
    if dtype.is_floating_point:
        data = torch.randn(shape, dtype=dtype)
    else:
        data = torch.ones(shape, dtype=dtype)  # masks, timesteps: any values trace the same graph
    return torch.empty_strided(shape, stride, dtype=dtype).copy_(data)


def compile_in_child(module: torch.nn.Module, dtype: torch.dtype, channels_last: bool, cpu_attention: bool,
                     args: tuple, kwargs: dict, out: Path, folder: str) -> None:
    """Run the child that compiles `module`'s graph for these inputs into `out`; raises RuntimeError if it fails."""
    spec = {"class": [type(module).__module__, type(module).__qualname__], "folder": folder,
            "dtype": str(dtype).replace("torch.", ""), "channels_last": channels_last, "cpu_attention": cpu_attention,
            "inputs": describe_inputs(args, kwargs), "out": str(out)}
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # One child at a time (each holds its own copy of the UNet and the compiler's memory); its output goes to a
    # file, not a pipe: a child still compiling when the app quits finishes its file.
    with _ONE_CHILD, open(out.with_suffix(".log"), "w") as output:
        done = subprocess.run([sys.executable, "-m", "core.generation.precompile", json.dumps(spec)],
                              cwd=str(Path(__file__).resolve().parents[2]), stdout=output, stderr=subprocess.STDOUT,
                              timeout=CHILD_TIMEOUT_S, env=os.environ.copy())
    if done.returncode != 0 or not out.exists():
        lines = out.with_suffix(".log").read_text(errors="replace").strip().splitlines()
        raise RuntimeError(f"the compiling process failed: {lines[-1] if lines else f'exit {done.returncode}'}")
    log.info("compiled %s in a child process in %.1f s", type(module).__name__, time.perf_counter() - started)


@contextlib.contextmanager
def compiling_lock(out: Path) -> Iterator[None]:
    """Held while one process checks for and builds `out`; another one wanting it waits, then loads the file.
    (Without fcntl, on Windows, each may compile it: the file is written atomically either way.)"""
    try:
        import fcntl
    except ImportError:
        yield
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load(path: Path, module: torch.nn.Module) -> Callable:
    """The saved graph as a call of the stage's inputs, bound to `module` (its weights are the graph's inputs).
    Loaded and called under inference mode: the saved tensor guards expect inference tensors."""
    with open(path, "rb") as f, torch.inference_mode():
        compiled = torch.compiler.load_compiled_function(f)
    if hasattr(compiled, "disable_guard_check"):
        compiled.disable_guard_check()  # call() checks them once, and runs eager instead of raising

    def call(*args, **kwargs):
        # The guards compare dispatch keys: a tensor made outside inference mode (a caller's own) is copied into one.
        args = tuple(_inference(a) for a in args)
        kwargs = {k: _inference(v) for k, v in kwargs.items()}
        if not compiled.guard_check(module, *args, **kwargs):
            raise GuardMismatch("the inputs do not match the saved graph's shapes or layout")
        return compiled(module, *args, **kwargs)

    return call


def _inference(value: Any) -> Any:
    if isinstance(value, torch.Tensor) and not value.is_inference():
        with torch.inference_mode():
            return value.clone()
    return value


class GuardMismatch(RuntimeError):
    """A call whose inputs the saved graph was not compiled for (the caller runs it eager)."""


def _main(spec: dict) -> None:
    try:
        os.nice(NICE)
    except OSError:
        pass
    module_name, class_name = spec["class"]
    cls = getattr(importlib.import_module(module_name), class_name)
    dtype = getattr(torch, spec["dtype"])
    # Loaded in fp32 and cast whole, as the app casts its copy (core.generation.precision.apply).
    module = cls.from_pretrained(spec["folder"], torch_dtype=torch.float32).eval().to(dtype)
    if spec["channels_last"]:
        module.to(memory_format=torch.channels_last)
    if spec.get("cpu_attention"):
        from core.generation import cpu_attention

        cpu_attention.install(module)  # as precision.apply does for the app's copy
    import torch._dynamo.config as dynamo_config
    import torch._inductor.config as inductor_config

    from core.generation.cpu_kernels import release_interpreter_in_kernels

    release_interpreter_in_kernels()  # as the app, which loads these kernels
    dynamo_config.run_gc_after_compile = False
    inductor_config.freezing = False  # as the in-process compile (core.generation.compiled)
    with torch.inference_mode():
        args = tuple(_stand_in(a) for a in spec["inputs"]["args"])
        kwargs = {k: _stand_in(v) for k, v in spec["inputs"]["kwargs"].items()}
        compiled = torch.compile(stage_forward, fullgraph=True, dynamic=False,
                                 options={"guard_filter_fn": torch.compiler.keep_tensor_guards_unsafe})
        compiled.aot_compile(((module, *args), kwargs)).save_compiled_function(spec["out"])  # atomic


if __name__ == "__main__":
    from core.quiet import quiet_model_libraries

    quiet_model_libraries()
    _main(json.loads(sys.argv[1]))
