"""The engine's fast path: per-stage precision (precision.py) and compiled bucket graphs (compiled.py), set up
on a loaded pipeline by one call from the Engine, which asks it only two things per request: how many mel frames
to render, and what to tell the user about it.
"""

from __future__ import annotations

import logging
import threading
from typing import Optional

import torch

from core.generation import compiled, cpu_layout, low_vram, precision
from core.models.kinds import pipe_kind

log = logging.getLogger(__name__)


class FastPath:
    def __init__(self, device: torch.device, requested_precision: str = "auto", compile: Optional[str] = None,
                 background: bool = True, low_vram_mode: Optional[bool] = None) -> None:
        self.device = device
        self.device_plan = precision.resolve(requested_precision, device)  # before the model's kind is known
        self.plan = self.device_plan
        self.mode = compiled.compile_mode(compile)
        self.low_vram_requested = low_vram.default_low_vram() if low_vram_mode is None else bool(low_vram_mode)
        self.offload = low_vram.decide(self.low_vram_requested, device)
        self.background = background
        self.stages: dict[str, compiled.CompiledStage] = {}
        self.warm_thread: Optional[threading.Thread] = None

    @property
    def active(self) -> bool:
        """Whether compiled graphs serve this plan (the loaded model's, once prepared)."""
        # Offloaded weights move between devices: no compiled graphs (CUDA graphs hold device addresses).
        return compiled.compile_wanted(self.mode, self.device, self.plan) and not self.offload.enabled

    @property
    def precision(self) -> str:
        return self.plan.requested

    @property
    def load_device(self) -> torch.device:
        """Where the pipeline loads: system memory when offloading (the GPU takes one model at a time)."""
        return torch.device("cpu") if self.offload.enabled else self.device

    def prepare(self, pipe) -> None:
        """Apply the precision plan to a freshly loaded pipeline and, when compiling, install the compiled
        stages; in the background mode the 10.24 s bucket starts compiling now (the window at model load)."""
        if precision.plan_of(pipe) is not None:
            return
        self.plan = precision.for_model(self.device_plan, pipe_kind(pipe))
        if self.device.type == "cpu" and cpu_layout.usable():
            # Before the precision plan: its fp32 vocoder tail hooks onto the channels-last convolutions.
            cpu_layout.apply(pipe)
        precision.apply(pipe, self.plan)
        if self.offload.enabled:
            low_vram.enable(pipe, self.device)
        if not self.active:
            return
        if self.device.type == "cpu":
            # oneDNN's bf16 convolutions run without layout reorders in channels-last: a compiled 20-step take at
            # full size 35.8-36.3 s instead of 39.1-39.8 s (docs/developers.md, "Speed").
            pipe.unet.to(memory_format=torch.channels_last)
        compiled.use_disk_cache()
        self.stages = compiled.install(pipe, self.plan, self.device, self.background, self.mode == "on",
                                       compiled.stages_for(self.device))
        if self.background and "unet" in self.stages:
            self.warm_thread = threading.Thread(target=self._warm, args=(pipe,), daemon=True,
                                                name="loa-compile-warm-up")
            self.warm_thread.start()

    def _warm(self, pipe) -> None:
        try:
            compiled.warm_up(pipe, self.stages["unet"])()
        except Exception as exc:  # noqa: BLE001 - a warm-up failure only means the first takes run eager
            log.warning("background compile at load failed: %s", exc)

    def wait(self, timeout: Optional[float] = None) -> None:
        """Until the background compiles started so far are done (benchmarks and tests)."""
        if self.warm_thread is not None:
            self.warm_thread.join(timeout)
        for stage in self.stages.values():
            stage.wait(timeout)

    def render_seconds(self, seconds: float, plain: bool) -> tuple[float, Optional[str]]:
        """(the length to render, a note for the user or None). `plain`: text-to-audio without a user's clip."""
        if not self.active:
            return seconds, None
        bucket = compiled.bucket_for(seconds) if plain else None
        if bucket is not None or not plain:  # in-context lengths come from the user's clip: eager, no note
            return bucket or seconds, None
        lengths = ", ".join(f"{b:g}" for b in compiled.BUCKETS)
        return seconds, (f"this take ran without the compiled graphs (slower): {seconds:g} s is not within "
                         f"{compiled.MAX_PADDING:.0%} below one of the compiled lengths ({lengths} s).")

    def describe(self) -> dict:
        """Precision per stage, compile mode, and each compiled stage's ready shapes (benchmark report)."""
        return {"precision": self.plan.requested, "stages": self.plan.describe(), "compile": self.mode,
                "compiled": self.active, "low_vram": self.offload.enabled,
                **({"low_vram_note": self.offload.note} if self.offload.note else {}),
                "compiled_shapes": {n: len(s.ready) for n, s in self.stages.items()},
                "compile_seconds": {n: list(s.compile_seconds.values()) for n, s in self.stages.items()},
                "compile_failed": {n: s.broken for n, s in self.stages.items() if s.broken},
                "calls": {n: dict(s.calls) for n, s in self.stages.items()}}
