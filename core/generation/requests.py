"""What a caller asks the engine for, and the checks done before any model work."""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, replace
from typing import Any, Optional

from core.errors import InputError

MAX_SECONDS = 60.0  # the model was trained on 10.24 s; past a minute quality and memory both suffer
MAX_STEPS = 1000
MAX_GUIDANCE = 30.0
MAX_CANDIDATES = 16
MAX_SEED = 2**32 - 1
SCHEDULERS = ("dpmsolver++", "ddim")
DEFAULT_SCHEDULER = "dpmsolver++"


@dataclass(frozen=True)
class GenerationRequest:
    """One text-to-audio (or text-to-speech) request. `seed=None` means pick one at random."""

    prompt: str
    negative_prompt: str = ""
    seconds: float = 10.0
    steps: int = 25
    guidance: float = 3.5
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


def _check_number(name: str, value: Any, low: float, high: float, low_open: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and value <= high
    if not ok:
        low_text = f"greater than {low:g}" if low_open else f"at least {low:g}"
        raise InputError(f"{name} must be a finite number {low_text} and at most {high:g} (got {value!r}).")


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InputError(f"{name} must be a whole number from {low} to {high} (got {value!r}).")
