"""What a caller asks the engine for, and the checks done before any model work."""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, replace
from typing import Any, Optional

from core.errors import InputError
from core.generation.defaults import DEFAULT_SCHEDULER, MAX_SECONDS, SCHEDULERS, SOUND

MAX_STEPS = 1000
MAX_GUIDANCE = 30.0
MAX_CANDIDATES = 16
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class GenerationRequest:
    """One text-to-audio (or text-to-speech) request. `seed=None` means pick one at random."""

    prompt: str
    negative_prompt: str = ""
    seconds: float = SOUND.seconds
    steps: int = SOUND.steps
    guidance: float = SOUND.guidance
    seed: Optional[int] = None
    candidates: int = 1
    scheduler: str = DEFAULT_SCHEDULER
    transcription: Optional[str] = None  # speech checkpoints: the words to speak
    allow_empty_prompt: bool = False  # in-context edits may let the audio speak for itself

    def validated(self) -> "GenerationRequest":
        """Return the request with a concrete seed, or raise InputError naming the bad field and its range."""
        prompt = self.prompt.strip() if isinstance(self.prompt, str) else self.prompt
        if not isinstance(prompt, str) or (not prompt and not self.allow_empty_prompt):
            raise InputError("prompt is empty: describe the sound you want, e.g. \"rain on a tin roof\".")
        _check_number("seconds", self.seconds, 0.0, MAX_SECONDS, low_open=True)
        _check_int("steps", self.steps, 1, MAX_STEPS)
        _check_number("guidance", self.guidance, 0.0, MAX_GUIDANCE)
        _check_int("candidates", self.candidates, 1, MAX_CANDIDATES)
        if self.scheduler not in SCHEDULERS:
            raise InputError(f"scheduler {self.scheduler!r} is not available; use one of {', '.join(SCHEDULERS)}.")
        seed = self.seed
        if seed is None:
            seed = random.randrange(0, MAX_SEED - MAX_CANDIDATES)
        else:
            _check_int("seed", seed, 0, MAX_SEED - MAX_CANDIDATES)
        if self.transcription is not None and not self.transcription.strip():
            raise InputError("transcription is empty: give the words to speak.")
        return replace(self, prompt=prompt, seed=seed)

    def settings(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GenerationSettings:
    """The generation knobs shared by all operations (the prompt is optional here)."""

    prompt: str = ""
    negative_prompt: str = ""
    steps: int = SOUND.steps
    guidance: float = SOUND.guidance
    seed: Optional[int] = None
    candidates: int = 1
    scheduler: str = DEFAULT_SCHEDULER

    def request(self, seconds: float) -> GenerationRequest:
        # With neither prompt nor negative prompt, guidance would steer "" away from "": the same audio at
        # twice the work. The request then runs unguided (guidance 1), and records that.
        steer = isinstance(self.prompt, str) and bool(self.prompt.strip() or self.negative_prompt.strip())
        guidance = self.guidance if steer else 1.0
        return GenerationRequest(prompt=self.prompt, negative_prompt=self.negative_prompt, seconds=seconds,
                                 steps=self.steps, guidance=guidance, seed=self.seed,
                                 candidates=self.candidates, scheduler=self.scheduler, allow_empty_prompt=True)


def _check_number(name: str, value: Any, low: float, high: float, low_open: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        low_text = f"greater than {low:g}" if low_open else f"at least {low:g}"
        raise InputError(f"{name} must be a finite number {low_text} and at most {high:g} (got {value!r}).")


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InputError(f"{name} must be a whole number from {low} to {high} (got {value!r}).")
