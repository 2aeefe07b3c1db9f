"""Render a clip for export: format, sample format, rate, selection, readable name and provenance.

The studio's drag-out, "Export..." and "Copy to clipboard" all go through `export_clip`, so a file dragged into a
DAW and a file exported by dialog are the same bytes. Qt-free.

    path = export_clip(clip, provenance, ExportSettings(), folder, start=1.0, end=2.5)   # same as source
    # folder/metal-door-slam-in-a-large-hall_s1234_1.00-2.50s.flac (+ .json sidecar) for a 24-bit FLAC source
    resolve(clip, entry_settings, ExportSettings(sample_rate=48_000)).describe()   # 'FLAC 24-bit, 48 kHz, stereo'

Fields left None mean "same as source" (core.audio.formats.source); the formats and what each holds are in
core.audio.formats.containers. `render(clip, settings, start, end)` gives the audio only, without writing anything.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from core.audio.clip import Clip, resample
from core.audio.downmix import mix_peak, peak_line
from core.audio.downmix import note as downmix_note
from core.audio.formats.containers import (
    CONTAINERS,
    EXPORT_RATES,
    FLOAT_FORMATS,
    MAX_RATE,
    MIN_RATE,
    SAMPLE_FORMAT_LABELS,
    combination_error,
    describe,
)
from core.audio.formats.source import SourceFormat, clipping_warning, same_as_source, source_container
from core.audio.naming import take_file_name, unique_path
from core.audio.provenance import Provenance, save_with_provenance
from core.errors import InputError
from core.tempo.bars import bar_seconds, meter_of

# Kept for callers that list the choices; the full table (and what each format holds) is in
# core.audio.formats.containers.
__all__ = ["EXPORT_RATES", "SAMPLE_FORMATS", "ExportSettings", "ResolvedExport", "export_clip", "fit_choice", "resolve"]
SAMPLE_FORMATS = {name: kind.sample_formats for name, kind in CONTAINERS.items()}


@dataclass(frozen=True)
class ExportSettings:
    """How exported files are written. Each field None means "same as source" (core.audio.formats.source): a
    24-bit FLAC stays a 24-bit FLAC at its rate and channel count; a field that is set overrides only itself."""

    container: Optional[str] = None
    sample_format: Optional[str] = None
    sample_rate: Optional[int] = None
    channels: Optional[int] = None

    def validated(self) -> "ExportSettings":
        """Return self, or raise InputError naming the bad field and the allowed values."""
        if self.container is not None and self.container not in CONTAINERS:
            raise InputError(f"export format {self.container!r} is not offered; use one of {', '.join(CONTAINERS)}.")
        if self.sample_format is not None and self.sample_format not in SAMPLE_FORMAT_LABELS:
            raise InputError(f"export bit depth {self.sample_format!r} is not offered; "
                             f"use one of {', '.join(SAMPLE_FORMAT_LABELS)}.")
        if self.container is not None and self.sample_format is not None:
            error = combination_error(self.container, self.sample_format, self.sample_rate or 48_000, 1)
            if error:
                raise InputError(error)
        if self.sample_rate is not None and (isinstance(self.sample_rate, bool) or not isinstance(self.sample_rate, int)
                                             or not MIN_RATE <= self.sample_rate <= MAX_RATE):
            raise InputError(f"export sample rate {self.sample_rate!r} is not possible; use a rate between "
                             f"{MIN_RATE} and {MAX_RATE} Hz, e.g. 44100 or 48000.")
        if self.channels is not None and self.channels not in (1, 2):
            raise InputError(f"export channels {self.channels!r}: choose 1 (mono), 2 (stereo) or same as source.")
        return self

    @property
    def extension(self) -> str:
        """The file extension; only known once the container is (see `resolve`)."""
        if self.container is None:
            raise ValueError("resolve() the settings against a clip before asking for the extension")
        return CONTAINERS[self.container].extension

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
        container = container_for_extension(suffix)
        if container is None:
            offered = ", ".join(kind.extension for kind in CONTAINERS.values())
            raise InputError(f"Cannot export to {Path(path).name}: use a file name ending in {offered}.")
        sample_format = base.sample_format
        if CONTAINERS[container].lossy:
            sample_format = None
        elif sample_format is not None and sample_format not in CONTAINERS[container].sample_formats:
            sample_format = "pcm24"  # float WAV settings exported as FLAC keep full integer depth
        return dataclasses.replace(base, container=container, sample_format=sample_format).validated()


@dataclass(frozen=True)
class ResolvedExport:
    """The concrete format one export gets: settings with every field set, what "same as source" is for this
    clip, and the notes to show (why that default; peaks that would clip)."""

    settings: ExportSettings
    source: SourceFormat
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        s = self.settings
        return describe(s.container, s.sample_format, s.sample_rate, s.channels)

    @property
    def same_as_source_label(self) -> str:
        return f"Same as source: {self.source.describe()}"


def container_for_extension(suffix: str) -> Optional[str]:
    suffix = suffix.lower()
    aliases = {".aif": "aiff", ".oga": "ogg"}
    return aliases.get(suffix) or next((name for name, kind in CONTAINERS.items() if kind.extension == suffix), None)


def resolve(clip: Clip, entry_settings: dict[str, Any], choice: Optional[ExportSettings] = None) -> ResolvedExport:
    """Fill every "same as source" field of `choice` for this clip; InputError (one line, naming the fix) when
    the result cannot be written (e.g. Opus at 44.1 kHz, FLAC with float samples)."""
    settings, source, notes = _concrete(clip, entry_settings, choice)
    downmixing = _downmix_notes(clip, settings.channels, settings.sample_format)
    warning = "" if downmixing else clipping_warning(clip, settings.sample_format)
    notes.extend(downmixing + ([warning] if warning else []))
    return ResolvedExport(settings, source, tuple(notes))


def _concrete(clip: Clip, entry_settings: dict[str, Any], choice: Optional[ExportSettings]
              ) -> tuple[ExportSettings, SourceFormat, list[str]]:
    """resolve() without the notes that scan the samples (downmix, clipping): the settings, the source format
    and the notes about the default; InputError when they cannot be written."""
    choice = (choice or ExportSettings()).validated()
    source = same_as_source(clip, entry_settings or {})
    container = choice.container or source.container
    kind = CONTAINERS[container]
    notes = [source.note] if source.note and choice.container is None else []
    sample_format = choice.sample_format
    if kind.lossy:
        sample_format = None  # the codec has no bit depth (validated() refuses one chosen with it)
    elif sample_format is None:
        sample_format = source.sample_format or "pcm24"
        if sample_format not in kind.sample_formats:
            notes.append(f"{kind.label} cannot hold the source's {SAMPLE_FORMAT_LABELS[sample_format]} samples: "
                         "writing 24-bit.")
            sample_format = "pcm24"
    settings = ExportSettings(container, sample_format, choice.sample_rate or clip.sample_rate,
                              choice.channels or clip.channels)
    error = combination_error(container, sample_format, settings.sample_rate, settings.channels)
    if error:
        raise InputError(error)
    return settings, source, notes


FIELD_NAMES = {"container": "format", "sample_format": "bit depth", "sample_rate": "sample rate",
               "channels": "channels"}


def fit_choice(clip: Clip, entry_settings: dict[str, Any], choice: ExportSettings, start: Optional[float] = None,
               end: Optional[float] = None) -> tuple[ExportSettings, tuple[str, ...], str]:
    """`choice` as is when this clip (or its start..end part) can be written with it; otherwise the choice with
    the fewest fields set back to "same as source" (one if one is enough, else all that were set), the fields
    set back, and why in one short line ("Opus cannot hold 44.1 kHz audio"). A remembered choice never blocks."""
    def problem(candidate: ExportSettings) -> Optional[str]:
        try:  # only whether it can be written: no scan of the samples for notes (this runs on the GUI thread)
            _concrete(select(clip, start, end), entry_settings, candidate)
        except InputError as exc:
            return str(exc)
        return None

    try:
        select(clip, start, end)
    except InputError:
        return choice, (), ""  # the selection is the problem, not the format: the caller reports it
    reason = problem(choice)
    if reason is None:
        return choice, (), ""
    reason = reason.split(";")[0].split(" (")[0].rstrip(".")
    chosen = tuple(field for field in FIELD_NAMES if getattr(choice, field) is not None)
    for field in chosen:
        lighter = dataclasses.replace(choice, **{field: None})
        if problem(lighter) is None:
            return lighter, (field,), reason
    return ExportSettings(), chosen, reason


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
    """The audio as it will be written: the selection, resampled and mapped to the export's channels (fields
    left None keep the clip's own rate and channels)."""
    settings = settings.validated()
    part = select(clip, start, end)
    if settings.channels is not None and settings.channels != part.channels:
        part = _with_channels(part, settings.channels)
    if settings.sample_rate is None or part.sample_rate == settings.sample_rate:
        return part
    return Clip(resample(part.samples, part.sample_rate, settings.sample_rate), settings.sample_rate)


def _with_channels(clip: Clip, channels: int) -> Clip:
    """Mono spread, or every channel downmixed (core.audio.downmix: ITU-R BS.775 for 5.1, quad, ...)."""
    return clip.with_channels(channels)


def _downmix_notes(clip: Clip, channels: int, sample_format: Optional[str]) -> list[str]:
    """What a downmix of 3+ channels does, and a line when the mix passes 0 dBFS (said before it is written).
    Stereo to mono (the mean) never peaks above its source, whose own peaks `clipping_warning` covers."""
    if clip.channels <= 2 or channels >= clip.channels:
        return []
    integer = SAMPLE_FORMAT_LABELS[sample_format] if sample_format not in (None, *FLOAT_FORMATS) else None
    over = peak_line(mix_peak(clip.samples, channels), integer)
    return [downmix_note(clip.channels, channels)] + ([over] if over else [])


def export_name(provenance: Provenance, settings: ExportSettings, start: Optional[float] = None,
                end: Optional[float] = None) -> str:
    """prompt-slug_sSEED.ext, with the selection in seconds when only part of the clip is exported."""
    extension = CONTAINERS[settings.container or source_container(provenance.settings)].extension
    take_settings = provenance.settings
    if (start is not None or end is not None) and take_settings.get("bar_locked"):
        # a part of a bar-locked take keeps its tempo in the name, and a bar count only when it is whole bars
        take_settings = dict(take_settings, bars=_whole_bars(take_settings, start, end))
    name = take_file_name(provenance.prompt, take_settings, provenance.seed, extension)
    if start is None and end is None:
        return name
    stem = name[: -len(extension)]
    end_text = "end" if end is None else f"{end:.2f}s"
    return f"{stem}_{start or 0.0:.2f}-{end_text}{extension}"


def _whole_bars(settings: dict, start: Optional[float], end: Optional[float]) -> Optional[int]:
    bpm = settings.get("bpm")
    if end is None or not isinstance(bpm, (int, float)) or bpm <= 0:
        return None
    bars = (end - (start or 0.0)) / bar_seconds(1, float(bpm), *meter_of(settings))
    return int(round(bars)) if round(bars) >= 1 and abs(bars - round(bars)) < 0.005 else None


def resolve_for(clip: Clip, provenance: Provenance, settings: Optional[ExportSettings],
                start: Optional[float] = None, end: Optional[float] = None) -> ResolvedExport:
    """`resolve` for the part of the clip an export writes (its entry's settings travel in the provenance)."""
    return resolve(select(clip, start, end), provenance.settings, settings)


def export_clip(clip: Clip, provenance: Provenance, settings: Optional[ExportSettings],
                folder: str | Path | None = None, start: Optional[float] = None, end: Optional[float] = None,
                path: str | Path | None = None, overwrite: bool = False) -> Path:
    """Write the (selected, resampled) clip with provenance tags and a JSON sidecar; return the file's path.

    Fields of `settings` left None are "same as source" (`resolve`). Either `folder` (the readable name is
    chosen, numbered if taken unless `overwrite`) or an explicit `path` (from a save dialog; its extension must
    match the container). The audio and its sidecar land atomically (core.fileio) or not at all.
    """
    resolved = resolve_for(clip, provenance, settings, start, end).settings
    chosen_by_user = path is not None
    audio = render(clip, resolved, start, end)
    if start is not None or end is not None:  # name and record the selection with both bounds
        start, end = start or 0.0, clip.seconds if end is None else end
    if path is None:
        if folder is None:
            raise ValueError("export_clip needs a folder or a path")
        path = Path(folder) / export_name(provenance, resolved, start, end)
        if not overwrite:
            path = unique_path(path)
    path = Path(path)
    if container_for_extension(path.suffix) != resolved.container:
        raise InputError(f"{path.name} does not end in {resolved.extension} as "
                         f"{CONTAINERS[resolved.container].label} export needs; change the name or the format.")
    record = dataclasses.replace(provenance, settings={
        **provenance.settings,
        "export": resolved.to_dict(),
        "source_sample_rate": clip.sample_rate,
        **({"selection_seconds": [round(start, 6), round(end, 6)]} if start is not None else {}),
    })
    # A dialog's path was confirmed by the user (overwrite); a chosen free name must not replace a file that
    # appeared meanwhile.
    return save_with_provenance(audio, path, record, subtype=resolved.sample_format,
                                overwrite=overwrite or chosen_by_user)
