"""Rendering one unit (consecutive seeds of one row) on a resident engine: the same code on the local machine
and inside a Ray actor. Returns plain picklable takes; writing them is the driver's job (core.batch.runner)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from core.audio.clip import Clip
from core.audio.provenance import Provenance
from core.generation.engine import Engine
from core.generation.requests import GenerationRequest
from .jobs import JobRow


@dataclass
class Take:
    seed: int
    clip: Clip
    provenance: Provenance


class EnginePool:
    """One Engine per model, each loaded once and kept resident for the whole run."""

    def __init__(self, device: str = "auto") -> None:
        self.device = device
        self._engines: dict[str, Engine] = {}

    def get(self, model: str) -> Engine:
        if model not in self._engines:
            self._engines[model] = Engine(model, device=self.device)
        return self._engines[model]


def render_unit(pool: EnginePool, row: JobRow, seeds: tuple[int, ...], cancel=None) -> list[Take]:
    engine = pool.get(row.model)
    first, count = seeds[0], len(seeds)
    if row.mode == "speech":
        from core.speech.tts import SpeechRequest, speak

        request = SpeechRequest(text=row.words or "", voice=row.prompt, seconds=row.seconds,
                                negative_prompt=row.negative, steps=row.steps, guidance=row.guidance, seed=first,
                                candidates=count, scheduler=row.scheduler)
        result = speak(engine, request, cancel=cancel)
    else:
        request = GenerationRequest(prompt=row.prompt, negative_prompt=row.negative, seconds=row.seconds or 10.0,
                                    steps=row.steps, guidance=row.guidance, seed=first, candidates=count,
                                    scheduler=row.scheduler)
        if row.bars is not None:
            from core.generation.bar_locked import BarLock, generate_bars

            result = generate_bars(engine, request, BarLock(row.bars, row.bpm, row.beats_per_bar,
                                                                  beat_unit=row.beat_unit), cancel=cancel)
        else:
            result = engine.generate(request, cancel=cancel)
    return [Take(c.seed, c.clip, result.provenance(c)) for c in result.candidates if c.seed in seeds]


def device_name(pool: Optional[EnginePool]) -> str:
    from core.models.loading import pick_device

    return pick_device(pool.device if pool else "auto").type
