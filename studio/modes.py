"""The generation modes the window offers, and which core feature each one runs.

Sound and Music are plain text-to-audio on different checkpoints; Speech runs `core.speech`, Continue
`core.incontext.operations` (both part of core: a broken one fails at import, never hides its mode).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.models.catalog import DEFAULT_MODEL_BY_TASK

from .jobs import JobWork, generate_work


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
    """The job function for a mode: text-to-audio runs Engine.generate, Speech runs core.speech.speak."""
    if mode.name == "speech":
        return speech_work
    if mode.name == "continue":
        return continue_work
    if mode.name == "music":
        return music_work
    return generate_work


def bar_lock_extra(settings: dict) -> dict:
    """The job extra that makes a take like this one bar-locked the same way ({} for a take without a lock)."""
    from core.generation.bar_locked import lock_of

    lock = lock_of(settings)
    if lock is None:
        return {}
    return {"bar_lock": {"bars": lock.bars, "bpm": lock.bpm, "beats_per_bar": lock.beats_per_bar,
                         "beat_unit": lock.beat_unit, "ending": lock.ending}}


def music_work(engine, spec, progress, cancel):
    """Music: text-to-audio, or exactly N bars when the job carries a `bar_lock` (studio.midi.bars_row)."""
    lock = spec.extra.get("bar_lock")
    if not lock:
        return generate_work(engine, spec, progress, cancel)
    from core.generation.bar_locked import BarLock, generate_bars

    return generate_bars(engine, spec.request, BarLock(**lock), progress=progress, cancel=cancel)


def speech_work(engine, spec, progress, cancel):
    """Speech: the prompt describes the voice, the transcription holds the words (core.speech.speak);
    `spec.extra["reference"]`, when set, is the ReferenceVoice to speak in."""
    from core.speech import SpeechRequest, speak

    request = spec.request
    speech = SpeechRequest(text=request.transcription or "", voice=request.prompt, seconds=request.seconds,
                           negative_prompt=request.negative_prompt, steps=request.steps, guidance=request.guidance,
                           seed=request.seed, candidates=request.candidates, scheduler=request.scheduler)
    return speak(engine, speech, reference=spec.extra.get("reference"), progress=progress, cancel=cancel)


def speech_seconds(words: str) -> float:
    """How long core.speech expects these words to take (the panel's "auto" duration)."""
    from core.speech import estimate_seconds, normalize_text

    return estimate_seconds(normalize_text(words))


def continue_work(engine, spec, progress, cancel):
    """Continue: the source clip followed by `request.seconds` of new audio (core.incontext.operations.continue_clip).

    The source path is recorded in each take's settings, so "More like this" and "Re-open settings" find it.
    """
    from dataclasses import replace

    from core.audio.clip import load_clip
    from core.incontext.operations import GenerationSettings, continue_clip

    request, source = spec.request, spec.extra["source"]
    settings = GenerationSettings(prompt=request.prompt, negative_prompt=request.negative_prompt,
                                  steps=request.steps, guidance=request.guidance, seed=request.seed,
                                  candidates=request.candidates, scheduler=request.scheduler)
    result = continue_clip(engine, load_clip(source), request.seconds, settings, progress=progress, cancel=cancel)
    candidates = [replace(c, settings=c.settings | {"source": str(source)}) for c in result.candidates]
    return replace(result, candidates=candidates)
