"""What each generation mode remembers on its own: prompt, negative prompt, words, source, duration, steps,
guidance and candidates. Switching modes swaps these sets, so Speech's "auto" duration or voice description
never leaks into Sound; each set is saved in the settings and comes back after a restart.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from core.generation.defaults import CONTINUE_SECONDS, SOUND, defaults_for_task

# The shown example tells the user what kind of text the prompt wants in this mode.
PLACEHOLDERS = {
    "sound": "e.g. metal door slam in a large hall",
    "music": "e.g. relaxed lo-fi hip hop beat, warm piano chords, 80 bpm",
    "speech": "the voice, e.g. a calm female narrator, close microphone, quiet room",
    "continue": "optional: how the continuation should sound",
}


@dataclass
class ModeFields:
    prompt: str = ""
    negative: str = ""
    words: str = ""  # Speech: what the voice says
    source: str = ""  # Continue: the audio file to continue
    seconds: float = SOUND.seconds  # Speech: 0.0 means "auto (from the words)"
    steps: int = SOUND.steps
    guidance: float = SOUND.guidance
    candidates: int = 4
    preset_prompt: str = ""  # the prompt a preset filled in; the next preset may replace it while untouched

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, default: "ModeFields") -> "ModeFields":
        """The saved set over the mode's defaults; unknown keys or wrong types (a hand-edited file) are dropped."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError):
            return default
        if not isinstance(data, dict):
            return default
        values = asdict(default)
        for f in fields(cls):
            value = data.get(f.name)
            expected = type(values[f.name])
            if isinstance(value, expected) or (expected is float and isinstance(value, int)
                                               and not isinstance(value, bool)):
                values[f.name] = expected(value)
        return cls(**values)


def default_fields(mode: str) -> ModeFields:
    """A new user's starting point per mode, from core.generation.defaults (Speech: the speech models')."""
    defaults = defaults_for_task(mode)
    if mode == "speech":
        from core.speech.defaults import DEFAULT_VOICE

        # The default voice counts as a preset's text: the first voice preset chosen replaces it.
        return ModeFields(prompt=DEFAULT_VOICE, seconds=0.0, steps=defaults.steps, guidance=defaults.guidance,
                          candidates=2, preset_prompt=DEFAULT_VOICE)
    if mode == "continue":
        return ModeFields(seconds=CONTINUE_SECONDS, steps=defaults.steps, guidance=defaults.guidance, candidates=2)
    return ModeFields(seconds=defaults.seconds, steps=defaults.steps, guidance=defaults.guidance)


def load_fields(settings, mode: str) -> ModeFields:
    text = settings.mode_fields_json(mode)
    return ModeFields.from_json(text, default_fields(mode)) if text else default_fields(mode)


def save_fields(settings, mode: str, values: ModeFields) -> None:
    settings.set_mode_fields_json(mode, values.to_json())
