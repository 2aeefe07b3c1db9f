"""One task model for every kind of work the engine does, and one runner.

The window, `loa` and `loa batch` describe what they want as one of these dataclasses and call `run(engine, task,
progress, cancel)`, which returns the ranked takes (a GenerationResult; `result.provenance(candidate)` is each
take's provenance). In-context tasks take a source: a Clip already in memory (the editor's clip) or the path of an
audio file (recorded in each take's settings as `source`), optionally with a range (`start`/`end` seconds) or a
cursor (`at`). `check(task)` refuses, without a model, what the run would refuse.

This module imports no torch: the model code is imported by `run` (and `check` for the in-context tasks).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional, Union

from core.generation.requests import GenerationRequest, GenerationSettings

Source = Union["Clip", str, Path]  # noqa: F821 - core.audio.clip.Clip, or a file to load


@dataclass(frozen=True)
class Generate:
    """Text-to-audio; with `bar_lock` (core.generation.bar_locked.BarLock) exactly N bars at a tempo."""

    request: GenerationRequest
    bar_lock: Any = None
    kind = "generate"


@dataclass(frozen=True)
class Speak:
    """Text-to-speech (core.speech.tts.SpeechRequest) in a described voice, or a `reference` voice."""

    request: Any  # core.speech.tts.SpeechRequest
    reference: Any = None  # core.speech.reference.ReferenceVoice
    kind = "speak"


@dataclass(frozen=True)
class SpeakLine:
    """One line of a script (core.speech.script.ScriptLine) with the script's settings and the line's seed."""

    line: Any
    settings: Any  # core.speech.tts.SpeechRequest
    seed: int
    reference: Any = None
    kind = "script_line"


@dataclass(frozen=True)
class Continue:
    """`seconds` of new audio after the source (or after its part before `at`; what followed comes after)."""

    source: Source
    seconds: float
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    at: Optional[float] = None
    kind = "continue"


@dataclass(frozen=True)
class Inpaint:
    """Regenerate [start, end) seconds of the source; everything outside stays bit for bit."""

    source: Source
    start: float
    end: float
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    kind = "inpaint"


@dataclass(frozen=True)
class ExtendLoop:
    """Add `bars` to the loop (the source, or its [start, end)) that lead back into its start."""

    source: Source
    bars: int
    bpm: Optional[float] = None  # None: estimated from the audio
    beats_per_bar: int = 4
    start: Optional[float] = None
    end: Optional[float] = None
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    kind = "extend_loop"


@dataclass(frozen=True)
class CloseLoop:
    """Regenerate the loop's last `seconds` (default: core.incontext.regenerate.default_closing_seconds)."""

    source: Source
    seconds: Optional[float] = None
    start: Optional[float] = None
    end: Optional[float] = None
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    kind = "close_loop"


@dataclass(frozen=True)
class Transform:
    """Re-imagine [start, end) of the source toward the prompt at `strength`, its timing kept."""

    source: Source
    strength: float = 0.5
    start: float = 0.0
    end: Optional[float] = None
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    kind = "transform"


Task = Union[Generate, Speak, SpeakLine, Continue, Inpaint, ExtendLoop, CloseLoop, Transform]
IN_CONTEXT = (Continue, Inpaint, ExtendLoop, CloseLoop, Transform)


def load_source(task) -> "Clip":  # noqa: F821
    from core.audio.clip import Clip, load_clip

    return task.source if isinstance(task.source, Clip) else load_clip(task.source)


def check(task: Task, clip=None) -> None:
    """Raise InputError for what `run` would refuse before any model work (ranges, silent or short sources)."""
    if not isinstance(task, IN_CONTEXT):
        return
    from core.incontext import in_clip
    from core.incontext.regenerate import check_clip, check_range
    from core.incontext.transform import check_transform

    clip = load_source(task) if clip is None else clip
    if isinstance(task, Inpaint):
        check_clip(clip)
        check_range(clip, task.start, task.end)
    elif isinstance(task, Transform):
        check_transform(clip, task.start, clip.seconds if task.end is None else task.end, task.strength)
    elif isinstance(task, Continue):
        in_clip.check_continue_at(clip, task.at)
    else:
        f0, f1 = in_clip.check_span(clip, task.start, task.end)
        check_clip(in_clip.part(clip, f0, f1))


def run(engine, task: Task, progress=None, cancel=None):
    """Run `task` on `engine` (core.generation.engine.Engine); return its GenerationResult, best take first."""
    if isinstance(task, Generate):
        if task.bar_lock is None:
            return engine.generate(task.request, progress=progress, cancel=cancel)
        from core.generation.bar_locked import generate_bars

        return generate_bars(engine, task.request, task.bar_lock, progress=progress, cancel=cancel)
    if isinstance(task, Speak):
        from core.speech.tts import speak

        return speak(engine, task.request, reference=task.reference, progress=progress, cancel=cancel)
    if isinstance(task, SpeakLine):
        from core.speech.script import render_line

        return render_line(engine, task.line, task.settings, task.seed, task.reference, progress=progress,
                           cancel=cancel)
    if isinstance(task, IN_CONTEXT):
        return _in_context(engine, task, progress, cancel)
    raise TypeError(f"not a task: {task!r}")


def _in_context(engine, task, progress, cancel):
    from core.incontext import in_clip, regenerate
    from core.incontext.transform import transform

    clip = load_source(task)
    check(task, clip)
    s, common = task.settings, dict(progress=progress, cancel=cancel)
    if isinstance(task, Continue):
        result = in_clip.continue_at(engine, clip, task.seconds, task.at, s, **common)
    elif isinstance(task, Inpaint):
        result = regenerate.inpaint(engine, clip, task.start, task.end, s, **common)
    elif isinstance(task, ExtendLoop):
        result = in_clip.extend_loop_in(engine, clip, task.bars, task.bpm, task.beats_per_bar, task.start, task.end,
                                        s, **common)
    elif isinstance(task, CloseLoop):
        result = in_clip.close_loop_in(engine, clip, task.seconds, task.start, task.end, s, **common)
    else:
        result = transform(engine, clip, task.strength, task.start, task.end, s, **common)
    if isinstance(task.source, (str, Path)):  # "More like this" and "Re-open settings" find the file again
        candidates = [replace(c, settings=c.settings | {"source": str(task.source)}) for c in result.candidates]
        result = replace(result, candidates=candidates)
    return result


def settings_of(request: GenerationRequest) -> GenerationSettings:
    """The in-context knobs of a request (the panel's fields: prompt, negative, steps, guidance, seed...)."""
    return GenerationSettings(prompt=request.prompt, negative_prompt=request.negative_prompt, steps=request.steps,
                              guidance=request.guidance, seed=request.seed, candidates=request.candidates,
                              scheduler=request.scheduler)
