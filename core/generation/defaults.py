"""The one source of generation defaults: steps, guidance, scheduler and duration limits per model.

`defaults_for(model)` answers for a catalog id, a local folder (a copy of a speech checkpoint gets the speech
defaults, read from its layout) or anything else (the sound defaults). The window's panel and editor dialogs,
`loa` and `loa batch` all read it; no other module types these numbers (tests/test_defaults.py checks).
Torch-free, so building the CLI's parser imports no model code.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEDULERS = ("dpmsolver++", "ddim")
DEFAULT_SCHEDULER = SCHEDULERS[0]
MAX_SECONDS = 60.0  # the model was trained on 10.24 s; past a minute quality and memory both suffer
MIN_SECONDS = 0.1  # the shortest duration the window offers


@dataclass(frozen=True)
class ModelDefaults:
    """What a request for this model uses unless the user says otherwise."""

    steps: int
    guidance: float
    seconds: float  # the default duration (speech: a typical sentence; the window derives it from the words)
    scheduler: str = DEFAULT_SCHEDULER
    max_seconds: float = MAX_SECONDS
    min_seconds: float = MIN_SECONDS


SOUND = ModelDefaults(steps=25, guidance=3.5, seconds=10.0)  # AudioLDM 2 sound and music checkpoints
SPEECH = ModelDefaults(steps=50, guidance=5.0, seconds=5.0)  # the speech checkpoints need the longer schedule
CONTINUE_SECONDS = 5.0  # how much new audio Continue adds unless told
EDITOR_CONTINUE_SECONDS = 4.0  # the editor's "Continue from here" starting value


def defaults_for(model: object = None) -> ModelDefaults:
    """The defaults for `model` (catalog id, hub id, local folder; None: the default sound model)."""
    if model is None or str(model) == "":
        return SOUND
    from core.models.store import defaults_entry

    info = defaults_entry(str(model))
    if info is None:
        return SOUND
    return ModelDefaults(steps=info.default_steps, guidance=info.default_guidance, seconds=info.default_seconds)


def defaults_for_task(task: str) -> ModelDefaults:
    """The defaults of a studio mode's models ("sound", "music", "speech", "continue")."""
    return SPEECH if task == "speech" else SOUND
