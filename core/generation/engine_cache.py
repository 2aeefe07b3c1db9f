"""The one engine cache: an Engine per model, loaded on first use, within a memory budget.

The window's job queue, `loa` and `loa batch` (and each Ray actor) get their engines here. When loading a model
would take the resident models past the budget, the least recently used ones are unloaded first
(`Engine.unload`: the pipeline is dropped and, on CUDA, `torch.cuda.empty_cache()` returns the memory). An engine
busy in another thread is never unloaded under it. A model larger than the whole budget still loads, alone.

The budget: `LOA_MODEL_MEMORY` (e.g. `8GB`, `7.5G`, `6000MB`, or bytes) or the `budget` argument; by default what
fits the device: on CUDA the free memory plus what this cache holds, less a margin for the sampling itself; on
the CPU (and Apple MPS, which shares it) half of the machine's memory.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Optional

from core.errors import InputError

log = logging.getLogger(__name__)

ENV = "LOA_MODEL_MEMORY"
CPU_SHARE = 0.5  # of the machine's memory, for the models' weights on CPU / MPS
CUDA_MARGIN = 1.5 * 2**30  # left free on the GPU for activations while sampling
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")
_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20,
          "g": 2**30, "gb": 2**30, "gib": 2**30, "t": 2**40, "tb": 2**40, "tib": 2**40}


def parse_memory(text: str) -> int:
    """`8GB`, `7.5 G`, `6000MB`, `123456` (bytes) -> bytes; InputError naming the setting otherwise."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?(?:e[0-9]+)?)\s*([a-z]*)\s*", str(text).lower())
    if not match or match.group(2) not in _UNITS or float(match.group(1)) <= 0:
        raise InputError(f"{ENV}={text!r} is not a memory size; write it like 8GB, 7.5G or 6000MB.")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def machine_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


def estimated_bytes(engine) -> int:
    """What loading `engine`'s model will take: its weight files' size (0 when the folder is not known yet)."""
    try:
        folder = Path(engine.resolved.folder)
    except Exception:  # noqa: BLE001 - a missing model fails at load with its own clear message
        return 0
    if not folder.is_dir():
        return 0
    total = 0
    for path in folder.rglob("*"):
        if path.suffix in WEIGHT_SUFFIXES and path.is_file():
            total += path.stat().st_size
    return total


class EngineCache:
    """One Engine per model spec (thread-safe), unloading the least recently used beyond the budget."""

    def __init__(self, device: str = "auto", budget: Optional[int] = None,
                 factory: Optional[Callable[..., object]] = None) -> None:
        self.device = device
        self._budget = budget
        self._factory = factory
        self._engines: "OrderedDict[str, object]" = OrderedDict()  # least recently used first
        self._lock = threading.RLock()
        self.unloaded: list[str] = []  # models unloaded to make room, oldest first (shown in logs and tests)

    # ---- engines -----------------------------------------------------------------------------------------
    def get(self, model: str):
        """The engine for `model` (created here on first use; its model loads when it is first used)."""
        model = str(model)
        with self._lock:
            engine = self._engines.get(model)
            if engine is not None and self._factory is None and _stale_precision(engine):
                engine.try_unload()  # made under another default precision (`loa batch --precision`, the menu)
                engine = None
            if engine is None:
                engine = self._engines[model] = self._make(model)
                engine.before_load = self._make_room
            self._engines.move_to_end(model)
            return engine

    def _make(self, model: str):
        if self._factory is not None:
            return self._factory(model, device=self.device)
        from core.generation.engine import Engine

        return Engine(model, device=self.device)

    def set_device(self, device: str) -> None:
        """Later engines use `device`; loaded ones are unloaded so their memory is freed."""
        with self._lock:
            if device != self.device:
                self.device = device
                for engine in self._engines.values():
                    engine.try_unload()  # one busy in a job is dropped with its job
                self._engines.clear()

    def forget_all(self) -> None:
        """Unload and forget every engine: the next `get` makes a new one (a new precision applies at load)."""
        with self._lock:
            for engine in self._engines.values():
                engine.try_unload()
            self._engines.clear()

    # ---- memory ------------------------------------------------------------------------------------------
    def resident(self) -> list[tuple[str, int]]:
        """(model, bytes) of the loaded models, most recently used first."""
        with self._lock:
            return [(m, e.resident_bytes()) for m, e in reversed(self._engines.items()) if e.loaded]

    def budget(self) -> int:
        """The memory the models may hold together, in bytes (see the module's docstring)."""
        if self._budget is not None:
            return self._budget
        text = os.environ.get(ENV, "").strip()
        if text:
            return parse_memory(text)
        from core.devices.compute import pick_device

        device = pick_device(self.device)
        if device.type == "cuda":
            import torch

            free, _total = torch.cuda.mem_get_info(device)
            return max(0, int(free + sum(b for _m, b in self.resident()) - CUDA_MARGIN))
        return int(machine_memory() * CPU_SHARE)

    def _make_room(self, engine) -> None:
        """Called by `engine` just before it loads: unload least recently used models until it fits."""
        with self._lock:
            need = estimated_bytes(engine)
            budget = self.budget()
            for model, other in list(self._engines.items()):  # least recently used first
                if other is engine or not other.loaded:
                    continue
                held = sum(e.resident_bytes() for e in self._engines.values() if e is not engine and e.loaded)
                if held + need <= budget:
                    break
                size = other.resident_bytes()
                if other.try_unload():
                    self.unloaded.append(model)
                    log.info("unloaded %s (%.0f MB) to make room for %s within the %.0f MB model budget", model,
                             size / 2**20, engine.model_spec, budget / 2**20)
            held = sum(e.resident_bytes() for e in self._engines.values() if e is not engine and e.loaded)
            if held + need > budget:
                log.warning("%s (%.0f MB) does not fit the model budget of %.0f MB beside the models in use; "
                            "loading it anyway", engine.model_spec, need / 2**20, budget / 2**20)


_shared: dict[str, EngineCache] = {}
_shared_lock = threading.Lock()


def _stale_precision(engine) -> bool:
    """The engine was made under another precision or low-VRAM default than the process's now."""
    from core.generation.low_vram import default_low_vram
    from core.generation.precision import default_precision

    fast = getattr(engine, "fast", None)
    return fast is not None and (fast.precision != default_precision()
                                 or fast.low_vram_requested != default_low_vram())


def shared_cache(device: str = "auto") -> EngineCache:
    """The process's cache for `device` (the CLI's commands and local batch runs use it)."""
    with _shared_lock:
        cache = _shared.get(device)
        if cache is None:
            cache = _shared[device] = EngineCache(device)
        return cache
