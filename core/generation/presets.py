"""Generation presets: built-in starting points per mode (resources/presets/MODE.json) and user presets.

User presets are saved in `user-presets.json` in the config folder (`core.paths.config_dir()`,
LOA_CONFIG_DIR overrides). A preset with an empty prompt keeps whatever prompt the user typed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any, Optional

from core.errors import InputError
from core.generation.defaults import SOUND
from core.generation.requests import GenerationRequest
from core.paths import config_dir

MODES = ("sound", "music", "speech", "continue")
USER_PRESETS_FILE = "user-presets.json"


@dataclass(frozen=True)
class Preset:
    name: str
    mode: str
    prompt: str = ""
    negative_prompt: str = ""
    seconds: Optional[float] = SOUND.seconds  # None: speech derives the duration from the words
    steps: int = SOUND.steps
    guidance: float = SOUND.guidance
    candidates: int = 4
    model: Optional[str] = None  # None: keep the model the user picked
    transcription: Optional[str] = None  # speech presets: the words to speak
    builtin: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any], mode: Optional[str] = None, builtin: bool = False) -> "Preset":
        """Build and check a preset; raise InputError naming the bad field."""
        if not isinstance(data, dict):
            raise InputError(f"a preset must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if mode is not None:
            values["mode"] = mode
        values["builtin"] = builtin
        name = values.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InputError("a preset needs a non-empty name")
        if values.get("mode") not in MODES:
            raise InputError(f"preset {name!r}: mode must be one of {', '.join(MODES)} (got {values.get('mode')!r})")
        preset = cls(**values)
        preset.check()
        return preset

    def check(self) -> None:
        """Validate the numbers through the same rules as a generation request."""
        try:
            if self.seconds is None and self.mode != "speech":
                raise InputError("seconds must be a number (only speech presets may leave it out)")
            GenerationRequest(prompt=self.prompt or "x", negative_prompt=self.negative_prompt,
                              seconds=1.0 if self.seconds is None else self.seconds, steps=self.steps, guidance=self.guidance, seed=0,
                              candidates=self.candidates).validated()
        except InputError as exc:
            raise InputError(f"preset {self.name!r}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("builtin")
        return data


def builtin_presets(mode: Optional[str] = None) -> list[Preset]:
    """The presets shipped in resources/presets, for one mode or all."""
    folder = importlib_resources.files("resources") / "presets"
    found = []
    for m in MODES if mode is None else (mode,):
        entry = folder / f"{m}.json"
        if entry.is_file():
            found += [Preset.from_dict(d, mode=m, builtin=True) for d in json.loads(entry.read_text())]
    return found


def user_presets_path() -> Path:
    return config_dir() / USER_PRESETS_FILE


def user_presets(mode: Optional[str] = None) -> list[Preset]:
    """User presets; a damaged file raises InputError naming it rather than silently losing them."""
    path = user_presets_path()
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise InputError(f"{path} is not valid JSON ({exc}); fix or delete it to reset user presets.") from exc
    if not isinstance(data, list):
        raise InputError(f"{path} must hold a JSON list of presets; fix or delete it.")
    presets = [Preset.from_dict(d) for d in data]
    return [p for p in presets if mode is None or p.mode == mode]


def presets_for(mode: str) -> list[Preset]:
    """Built-in presets first, then the user's, for one mode."""
    return builtin_presets(mode) + user_presets(mode)


def save_user_preset(preset: Preset) -> Preset:
    """Add a user preset, replacing one of the same name and mode."""
    preset = Preset.from_dict(replace(preset, builtin=False).to_dict())
    others = [p for p in user_presets() if (p.mode, p.name) != (preset.mode, preset.name)]
    _write(others + [preset])
    return preset


def delete_user_preset(mode: str, name: str) -> bool:
    presets = user_presets()
    kept = [p for p in presets if (p.mode, p.name) != (mode, name)]
    if len(kept) == len(presets):
        return False
    _write(kept)
    return True


def _write(presets: list[Preset]) -> None:
    from core.fileio import write_text_atomic

    # Atomic (hidden temp, fsync, rename): a crash or full disk never loses the previous presets.
    write_text_atomic(user_presets_path(), json.dumps([p.to_dict() for p in presets], indent=2))
