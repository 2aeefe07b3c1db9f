"""Rendering one unit (consecutive seeds of one row) on a resident engine: the same code on the local machine
and inside a Ray actor. Each row becomes a core task (core.generation.tasks) run by the one runner; engines come from the one engine
cache (core.generation.engine_cache). Returns plain picklable takes; writing them is the driver's job
(core.batch.runner)."""

from __future__ import annotations

from dataclasses import dataclass

from core.audio.clip import Clip
from core.audio.provenance import Provenance
from core.generation.engine_cache import EngineCache
from core.generation.requests import GenerationRequest

from .jobs import JobRow


@dataclass
class Take:
    seed: int
    clip: Clip
    provenance: Provenance


def task_for_row(row: JobRow, first: int, count: int):
    """The core task (core.generation.tasks) of `count` takes of a row, from seed `first`."""
    from core.generation import tasks

    if row.mode == "speech":
        from core.speech.tts import SpeechRequest

        return tasks.Speak(SpeechRequest(text=row.words or "", voice=row.prompt, seconds=row.seconds,
                                         negative_prompt=row.negative, steps=row.steps, guidance=row.guidance,
                                         seed=first, candidates=count, scheduler=row.scheduler))
    if row.source is not None:
        return _source_task(row, first, count)
    request = GenerationRequest(prompt=row.prompt, negative_prompt=row.negative, seconds=row.seconds or 10.0,
                                steps=row.steps, guidance=row.guidance, seed=first, candidates=count,
                                scheduler=row.scheduler)
    if row.bars is not None:
        from core.generation.bar_locked import BarLock

        return tasks.Generate(request, BarLock(row.bars, row.bpm, row.beats_per_bar, beat_unit=row.beat_unit))
    return tasks.Generate(request)


def _source_task(row: JobRow, first: int, count: int):
    """continue / inpaint / loop / transform rows (core.batch.source_rows) on their source file."""
    from core.generation import tasks
    from core.generation.requests import GenerationSettings

    settings = GenerationSettings(prompt=row.prompt, negative_prompt=row.negative, steps=row.steps,
                                  guidance=row.guidance, seed=first, candidates=count, scheduler=row.scheduler)
    if row.mode == "continue":
        return tasks.Continue(row.source, row.seconds, settings)
    if row.mode == "inpaint":
        return tasks.Inpaint(row.source, row.start, row.end, settings)
    if row.mode == "transform":
        return tasks.Transform(row.source, row.strength, row.start, row.end, settings)
    if row.bars is not None:
        return tasks.ExtendLoop(row.source, row.bars, row.bpm, row.beats_per_bar, settings=settings)
    return tasks.CloseLoop(row.source, row.seconds, settings=settings)


def render_unit(pool: EngineCache, row: JobRow, seeds: tuple[int, ...], cancel=None) -> list[Take]:
    from core.generation import tasks

    engine = pool.get(row.model)
    result = tasks.run(engine, task_for_row(row, seeds[0], len(seeds)), cancel=cancel)
    return [Take(c.seed, c.clip, result.provenance(c)) for c in result.candidates if c.seed in seeds]
