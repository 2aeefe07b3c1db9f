"""The format of files the app renders on its own (batch rows, speech script lines): the Export dialog's formats.

`loa batch`, `loa speak --script`, the batch dialog and the script export choose a container, a bit depth and a
sample rate from the same table as File > Export… (core.audio.formats.containers) and are checked by the same
validation (core.audio.formats.export.ExportSettings, combination_error); the audio is resampled by the same
`core.audio.formats.export.render` and lands atomically with its sidecar (core.audio.provenance). With no bit depth
chosen a take gets the window's rule for generated takes (core.audio.formats.source.generated_sample_format:
24-bit, 32-bit float when it peaks above 0 dBFS), at the model's rate (16 kHz, 48 kHz for the 48 kHz
model) unless a rate is chosen.

    choice = ExportSettings("flac", "pcm24", 48_000).validated()     # --format flac --bit-depth 24 --rate 48000
    path = write_take(clip, folder / f"line{extension_for(choice)}", provenance, choice)
Qt-free.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

from core.audio.clip import Clip
from core.audio.formats.containers import CONTAINERS, SAMPLE_FORMAT_LABELS, combination_error
from core.audio.formats.export import ExportSettings, container_for_extension, render
from core.audio.provenance import Provenance, save_with_provenance
from core.errors import InputError

DEFAULT_EXTENSION = ".wav"
BIT_DEPTH_ALIASES = {"16": "pcm16", "24": "pcm24", "32": "pcm32", "float": "float32", "32f": "float32",
                     "64f": "float64", "float64": "float64"}


def bit_depth(value: str) -> str:
    """'24' or 'pcm24' -> 'pcm24'; InputError naming the choices otherwise (argparse type for --bit-depth)."""
    text = str(value).strip().lower()
    chosen = BIT_DEPTH_ALIASES.get(text, text)
    if chosen not in SAMPLE_FORMAT_LABELS:
        raise InputError(f"bit depth {value!r} is not offered; use 16, 24, 32, float (or "
                         f"{', '.join(SAMPLE_FORMAT_LABELS)}).")
    return chosen


def take_choice(container: Optional[str] = None, sample_format: Optional[str] = None,
                sample_rate: Optional[int] = None, flags: bool = False) -> ExportSettings:
    """The checked choice (channels stay the take's own); InputError in one line naming the fix (in the command
    line's flags with `flags`, else in the Export dialog's words)."""
    if flags and container in CONTAINERS and sample_format in SAMPLE_FORMAT_LABELS:
        error = combination_error(container, sample_format, sample_rate or 48_000, 1, flags=True)
        if error:
            raise InputError(error)
    choice = ExportSettings(container, sample_format, sample_rate).validated()
    if container is not None:  # e.g. Opus at 44.1 kHz: said now, before any model work
        error = _problem(container, sample_format, sample_rate, 1, flags)
        if error:
            raise InputError(error)
    return choice


def _problem(container: str, sample_format: Optional[str], rate: Optional[int], channels: int,
             flags: bool = False, take_rate: int = 16_000) -> Optional[str]:
    """combination_error for what will be written: no bit depth chosen is 24-bit (or float, which WAV and AIFF
    hold as well); no rate chosen is the take's own (`take_rate`: the model's, 16 kHz for AudioLDM 2 and 48 kHz for
    the 48 kHz model, both of which every container holds)."""
    if sample_format is None and not CONTAINERS[container].lossy:
        sample_format = "pcm24"
    return combination_error(container, sample_format, rate or take_rate, channels, flags)


def extension_for(choice: Optional[ExportSettings], default: str = DEFAULT_EXTENSION) -> str:
    """The extension a file gets when its name does not give one: the chosen format's, else `default`."""
    if choice is None or choice.container is None:
        return default
    return CONTAINERS[choice.container].extension


def for_path(choice: Optional[ExportSettings], path: Path, channels: int = 1, take_rate: int = 16_000) -> ExportSettings:
    """The choice for one file: its container follows the file's extension; InputError when the file cannot hold
    the chosen bit depth or rate (an explicit `.mp3` name with --bit-depth 24, `.opus` at 44.1 kHz)."""
    choice = choice or ExportSettings()
    container = container_for_extension(Path(path).suffix)
    if container is None:
        offered = ", ".join(kind.extension for kind in CONTAINERS.values())
        raise InputError(f"cannot write {Path(path).name}: use a name ending in {offered}.")
    settings = dataclasses.replace(choice, container=container)
    if CONTAINERS[container].lossy and choice.sample_format is not None:
        raise InputError(f"{Path(path).name}: {CONTAINERS[container].label} is lossy and has no bit depth; drop "
                         "the bit depth or write WAV, FLAC or AIFF.")
    error = _problem(container, settings.sample_format, settings.sample_rate, channels, take_rate=take_rate)
    if error:
        raise InputError(f"{Path(path).name}: {error}")
    return settings


def render_take(clip: Clip, choice: Optional[ExportSettings]) -> Clip:
    """The take's audio at the chosen rate (unchanged without one)."""
    if choice is None or choice.sample_rate is None or choice.sample_rate == clip.sample_rate:
        return clip
    return render(clip, ExportSettings(sample_rate=choice.sample_rate))


def write_take(clip: Clip, path: str | Path, provenance: Provenance, choice: Optional[ExportSettings] = None,
               overwrite: bool = True, rendered: bool = False) -> Path:
    """Write one take (resampled unless `rendered` says it already is) with its sidecar, atomically."""
    settings = for_path(choice, Path(path), clip.channels, clip.sample_rate)
    audio = clip if rendered else render_take(clip, settings)
    return save_with_provenance(audio, path, provenance, subtype=settings.sample_format, overwrite=overwrite)


def key_fields(choice: Optional[ExportSettings]) -> dict:
    """What a render key adds for the choice: nothing when nothing is chosen (so earlier runs still match)."""
    if choice is None:
        return {}
    return {name: value for name, value in (("bit_depth", choice.sample_format), ("rate", choice.sample_rate))
            if value is not None}
