"""Render a clip for export: format, sample format, rate, selection, readable name and provenance.

The studio's drag-out, "Export..." and "Copy to clipboard" all go through `export_clip`, so a file dragged into a
DAW and a file exported by dialog are the same bytes. Qt-free.

    settings = ExportSettings(container="flac", sample_format="pcm24", sample_rate=48000).validated()
    path = export_clip(clip, provenance, settings, folder, start=1.0, end=2.5)
    # folder/metal-door-slam-in-a-large-hall_s1234_1.00-2.50s.flac (+ .json sidecar)

`render(clip, settings, start, end)` gives the audio only (selection cut, resampled) without writing anything.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from core.audio.clip import Clip, resample
from core.errors import InputError
from core.audio.naming import take_file_name, unique_path
from core.audio.provenance import Provenance, save_with_provenance

CONTAINERS = {"wav": ".wav", "flac": ".flac"}
# Which sample formats each container can hold (FLAC is integer-only).
SAMPLE_FORMATS = {"wav": ("pcm16", "pcm24", "float32"), "flac": ("pcm16", "pcm24")}
EXPORT_RATES = (16_000, 44_100, 48_000)


@dataclass(frozen=True)
class ExportSettings:
    """How exported files are written. WAV 24-bit at the clip's own rate unless the user chooses otherwise
    (`sample_rate` None: same as the source, so a 44.1 kHz take is never resampled behind the user's back)."""

    container: str = "wav"
    sample_format: str = "pcm24"
    sample_rate: Optional[int] = None

    def validated(self) -> "ExportSettings":
        """Return self, or raise InputError naming the bad field and the allowed values."""
        if self.container not in CONTAINERS:
            raise InputError(f"export format {self.container!r} is not offered; use one of {', '.join(CONTAINERS)}.")
        allowed = SAMPLE_FORMATS[self.container]
        if self.sample_format not in allowed:
            raise InputError(f"{self.container.upper()} cannot hold {self.sample_format!r} samples; "
                             f"use one of {', '.join(allowed)}.")
        if self.sample_rate is not None and (self.sample_rate not in EXPORT_RATES or isinstance(self.sample_rate, bool)):
            raise InputError(f"export sample rate {self.sample_rate!r} is not offered; "
                             f"use one of {', '.join(str(r) for r in EXPORT_RATES)} Hz.")
        return self

    @property
    def extension(self) -> str:
        return CONTAINERS[self.container]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ExportSettings":
        """Build from stored settings, ignoring unknown keys; the result is validated."""
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields}).validated()

    @classmethod
    def for_path(cls, path: str | Path, base: "ExportSettings | None" = None) -> "ExportSettings":
        """Settings whose container follows the file's extension (for "Export..." dialogs)."""
        base = base or cls()
        suffix = Path(path).suffix.lower()
        container = next((name for name, ext in CONTAINERS.items() if ext == suffix), None)
        if container is None:
            raise InputError(f"Cannot export to {Path(path).name}: use a .wav or .flac file name.")
        sample_format = base.sample_format
        if sample_format not in SAMPLE_FORMATS[container]:
            sample_format = "pcm24"  # float WAV settings exported as FLAC keep full integer depth
        return dataclasses.replace(base, container=container, sample_format=sample_format).validated()


def select(clip: Clip, start: Optional[float] = None, end: Optional[float] = None) -> Clip:
    """The part of the clip between `start` and `end` seconds (None: the clip's own start/end)."""
    if start is None and end is None:
        return clip
    start = 0.0 if start is None else float(start)
    end = clip.seconds if end is None else float(end)
    if not (0.0 <= start < end <= clip.seconds + 1e-9):
        raise InputError(f"selection {start:.3f}-{end:.3f} s is outside the clip (0-{clip.seconds:.3f} s) "
                         "or empty; select a range inside the waveform.")
    first = int(round(start * clip.sample_rate))
    last = min(clip.frames, int(round(end * clip.sample_rate)))
    if last <= first:
        raise InputError("selection is shorter than one sample; select a wider range.")
    return Clip(clip.samples[first:last], clip.sample_rate)


def render(clip: Clip, settings: ExportSettings, start: Optional[float] = None,
           end: Optional[float] = None) -> Clip:
    """The audio as it will be written: the selection, resampled to the export rate."""
    settings = settings.validated()
    part = select(clip, start, end)
    if settings.sample_rate is None or part.sample_rate == settings.sample_rate:
        return part
    return Clip(resample(part.samples, part.sample_rate, settings.sample_rate), settings.sample_rate)


def export_name(provenance: Provenance, settings: ExportSettings, start: Optional[float] = None,
                end: Optional[float] = None) -> str:
    """prompt-slug_sSEED.ext, with the selection in seconds when only part of the clip is exported."""
    name = take_file_name(provenance.prompt, provenance.settings, provenance.seed, settings.extension)
    if start is None and end is None:
        return name
    stem = name[: -len(settings.extension)]
    end_text = "end" if end is None else f"{end:.2f}s"
    return f"{stem}_{start or 0.0:.2f}-{end_text}{settings.extension}"


def export_clip(clip: Clip, provenance: Provenance, settings: ExportSettings, folder: str | Path | None = None,
                start: Optional[float] = None, end: Optional[float] = None, path: str | Path | None = None,
                overwrite: bool = False) -> Path:
    """Write the (selected, resampled) clip with provenance tags and a JSON sidecar; return the file's path.

    Either `folder` (the readable name is chosen, numbered if taken unless `overwrite`) or an explicit `path`
    (from a save dialog; its extension must match `settings.container`).
    """
    settings = settings.validated()
    chosen_by_user = path is not None
    audio = render(clip, settings, start, end)
    if start is not None or end is not None:  # name and record the selection with both bounds
        start, end = start or 0.0, clip.seconds if end is None else end
    if path is None:
        if folder is None:
            raise ValueError("export_clip needs a folder or a path")
        path = Path(folder) / export_name(provenance, settings, start, end)
        if not overwrite:
            path = unique_path(path)
    path = Path(path)
    if path.suffix.lower() != settings.extension:
        raise InputError(f"{path.name} does not end in {settings.extension} as {settings.container.upper()} "
                         "export needs; change the name or the format.")
    record = dataclasses.replace(provenance, settings={
        **provenance.settings,
        "export": settings.to_dict(),
        "source_sample_rate": clip.sample_rate,
        **({"selection_seconds": [round(start, 6), round(end, 6)]} if start is not None else {}),
    })
    # A dialog's path was confirmed by the user (overwrite); a chosen free name must not replace a file that
    # appeared meanwhile.
    return save_with_provenance(audio, path, record, subtype=settings.sample_format,
                                overwrite=overwrite or chosen_by_user)
