"""The generation modes the window offers, and which core feature each one runs.

Sound and Music are plain text-to-audio on different checkpoints; Speech runs `core.speech`, Continue
`core.incontext.regenerate` (both part of core: a broken one fails at import, never hides its mode).
Each mode's job is a core task (`task_for`, core.generation.tasks) run by the one runner.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.models.catalog import DEFAULT_MODEL_BY_TASK
from studio.jobs.job_queue import JobWork, task_work


@dataclass(frozen=True)
class Mode:
    name: str  # "sound", "music", "speech", "continue": also the preset and library mode
    label: str
    model_task: str  # which catalog models suit it ("sound", "music", "speech")
    needs_transcription: bool = False
    needs_source_audio: bool = False

    @property
    def default_model(self) -> str:
        return DEFAULT_MODEL_BY_TASK.get(self.model_task, DEFAULT_MODEL_BY_TASK["sound"])


ALL_MODES = (
    Mode("sound", "Sound", "sound"),
    Mode("music", "Music", "music"),
    Mode("speech", "Speech", "speech", needs_transcription=True),
    Mode("continue", "Continue", "sound", needs_source_audio=True),
)


def available_modes() -> list[Mode]:
    return list(ALL_MODES)


def mode_named(name: str) -> Mode:
    for mode in ALL_MODES:
        if mode.name == name:
            return mode
    raise KeyError(name)


def work_for(mode: Mode) -> JobWork:
    """The job function of every mode: the one core runner on the task `task_for` builds."""
    return task_work


def bar_lock_extra(settings: dict) -> dict:
    """The job extra that makes a take like this one bar-locked the same way ({} for a take without a lock)."""
    from core.generation.bar_locked import lock_of

    lock = lock_of(settings)
    if lock is None:
        return {}
    return {"bar_lock": {"bars": lock.bars, "bpm": lock.bpm, "beats_per_bar": lock.beats_per_bar,
                         "beat_unit": lock.beat_unit, "ending": lock.ending}}


def task_for(mode: str, request, extra: dict):
    """The core task (core.generation.tasks) of a mode's job: Sound and Music are text-to-audio (Music exactly N
    bars with a `bar_lock`); Speech speaks `request.transcription` in the voice the prompt describes (or in
    `extra["reference"]`); Continue adds `request.seconds` to the file `extra["source"]`."""
    from core.generation import tasks

    if mode == "speech":
        from core.speech import SpeechRequest

        speech = SpeechRequest(text=request.transcription or "", voice=request.prompt, seconds=request.seconds,
                               negative_prompt=request.negative_prompt, steps=request.steps,
                               guidance=request.guidance, seed=request.seed, candidates=request.candidates,
                               scheduler=request.scheduler)
        return tasks.Speak(speech, reference=extra.get("reference"))
    if mode == "continue":
        return tasks.Continue(extra["source"], request.seconds, tasks.settings_of(request))
    lock = extra.get("bar_lock")
    if lock:
        from core.generation.bar_locked import BarLock

        return tasks.Generate(request, BarLock(**lock))
    return tasks.Generate(request)


def speech_seconds(words: str) -> float:
    """How long core.speech expects these words to take (the panel's "auto" duration)."""
    from core.speech import estimate_seconds, normalize_text

    return estimate_seconds(normalize_text(words))
