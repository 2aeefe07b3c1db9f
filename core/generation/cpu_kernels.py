"""Inductor's CPU kernels run without holding the Python interpreter.

Inductor calls each fused C++ kernel through a small Python binding that keeps the GIL for the whole kernel: at
full size a compiled UNet step held it for up to 0.24 s at a time (benchmarks/bench_precompile.py), so the
window's GUI thread and the audio queues waited that long. The kernels touch only raw tensor memory, which the
calling wrapper keeps alive, so the binding can let go of the interpreter while one runs: the arguments are read
with the GIL, the kernel runs without it. Applied before anything compiles or loads a graph (kernel sources
change with it, so they are cached apart from unpatched ones).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

_STOCK_CALL = "kernel({}); Py_RETURN_NONE;"  # torch 2.13's CppPythonBindingsCodeCache.call_entry_function
_UNLOCKED_CALL = (
    "{{ auto args_read = std::make_tuple({}); "
    "struct Unlocked {{ PyThreadState* state = PyEval_SaveThread(); "
    "~Unlocked() {{ PyEval_RestoreThread(state); }} }}; "
    "{{ Unlocked unlocked; std::apply(kernel, args_read); }} }} Py_RETURN_NONE;"
)


def release_interpreter_in_kernels() -> bool:
    """Patch the binding (once per process); False, with a log line, if this torch's binding is not the one known."""
    from torch._inductor.codecache import CppPythonBindingsCodeCache as bindings

    if bindings.call_entry_function == _UNLOCKED_CALL:
        return True
    if bindings.call_entry_function != _STOCK_CALL:
        log.info("inductor's kernel binding is not the known one; its kernels keep the interpreter while they run")
        return False
    bindings.call_entry_function = _UNLOCKED_CALL
    return True
