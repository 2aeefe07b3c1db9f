"""What "same as source" means for an export: the original file's container, bit depth, rate and channels.

A clip opened from a file records that file's format in its settings (`source_file_settings`); edits and library
versions copy their parent's settings, so an edited version still exports like the file it started from. Rate and
channels are the clip's own: the source's, unless the user changed them on purpose (Resample, Mono/Stereo).

    same as source for ...                     exports as
    a 24-bit FLAC / 16-bit WAV / float AIFF    the same container and bit depth (float keeps peaks above 0 dBFS)
    an 8-bit or u-law/A-law file               16-bit in the same container (holds every sample exactly)
    a lossy file (MP3, Ogg Vorbis, Opus)       WAV 32-bit float: the decoded samples exactly, no second lossy encode
    another container (CAF/ALAC, AU, ...)      WAV at the source's bit depth
    a generated take or a recording            WAV 24-bit at the take's own rate (32-bit float if it peaks above
                                               0 dBFS, so nothing clips)

A Continue take names its input file in settings["source"]; that file's format is read while it still exists.
Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from core.audio.clip import Clip
from core.audio.formats.containers import CONTAINERS, FLOAT_FORMATS, SAMPLE_FORMAT_LABELS, describe
from core.audio.formats.kept import KEPT_SAMPLE_FORMATS, LOSSY_SUBTYPES

FORMAT_KEY, SUBTYPE_KEY = "source_format", "source_subtype"  # libsndfile's names, e.g. "FLAC" / "PCM_24"
_CONTAINER_OF = {"WAV": "wav", "WAVEX": "wav", "RF64": "wav", "W64": "wav", "FLAC": "flac", "AIFF": "aiff"}
_LOSSY_NAMES = {"VORBIS": "Ogg Vorbis", "OPUS": "Opus", "MPEG_LAYER_I": "MP2", "MPEG_LAYER_II": "MP2",
                "MPEG_LAYER_III": "MP3"}
GENERATED_DEFAULT = ("wav", "pcm24")
LOSSY_DEFAULT = ("wav", "float32")


@dataclass(frozen=True)
class SourceFormat:
    """The concrete format "same as source" resolves to for one clip, and why (said in the Export dialog)."""

    container: str
    sample_format: Optional[str]  # None only for lossy containers
    sample_rate: int
    channels: int
    note: str = ""

    def describe(self) -> str:
        return describe(self.container, self.sample_format, self.sample_rate, self.channels)


def source_file_settings(path: str | Path) -> dict[str, str]:
    """The settings a clip opened from `path` keeps, so its exports (and its edits' exports) match the file."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.LibsndfileError):
        return {}
    return {FORMAT_KEY: info.format, SUBTYPE_KEY: info.subtype}


def recorded_format(settings: dict[str, Any]) -> Optional[tuple[str, str]]:
    """(libsndfile format, subtype) of the file the clip came from, or None for generated or recorded audio."""
    if settings.get(FORMAT_KEY) and settings.get(SUBTYPE_KEY):
        return str(settings[FORMAT_KEY]), str(settings[SUBTYPE_KEY])
    source = settings.get("source")  # a Continue take's input file
    if isinstance(source, str) and source and Path(source).is_file():
        found = source_file_settings(source)
        if found:
            return found[FORMAT_KEY], found[SUBTYPE_KEY]
    return None


def peak(clip: Clip) -> float:
    return float(np.max(np.abs(clip.samples))) if clip.frames else 0.0


def generated_sample_format(clip: Clip, container: str = GENERATED_DEFAULT[0]) -> Optional[str]:
    """The one bit-depth rule for a take with no source file (generate, speak, batch, bar-locked loops, a
    script, drag-out): 24-bit, or 32-bit float when it peaks above 0 dBFS and the container holds float (FLAC
    does not: 24-bit); None for a lossy container."""
    kinds = CONTAINERS[container]
    if kinds.lossy:
        return None
    if peak(clip) > 1.0 and "float32" in kinds.sample_formats:
        return "float32"
    return GENERATED_DEFAULT[1]


def same_as_source(clip: Clip, settings: dict[str, Any]) -> SourceFormat:
    """The format an export of `clip` (with its entry's `settings`) gets when nothing is overridden."""
    rate, channels = clip.sample_rate, clip.channels
    recorded = recorded_format(settings)
    if recorded is None:
        if generated_sample_format(clip) == "float32":
            return SourceFormat("wav", "float32", rate, channels,
                                "Generated take peaks above 0 dBFS: 32-bit float WAV keeps the peaks (24-bit "
                                "would clip them).")
        return SourceFormat(*GENERATED_DEFAULT, rate, channels,
                            "No source file (generated or recorded): WAV 24-bit at the take's own rate.")
    fmt, subtype = recorded
    if subtype in LOSSY_SUBTYPES or fmt in ("MP3", "OGG"):
        name = _LOSSY_NAMES.get(subtype, subtype.replace("_", " ").title())
        return SourceFormat(*LOSSY_DEFAULT, rate, channels,
                            f"Source was {name} (lossy): exporting as WAV 32-bit float, which holds the decoded "
                            "samples exactly, to avoid a second lossy encode.")
    sample_format = KEPT_SAMPLE_FORMATS.get(subtype, "float32")
    container = _CONTAINER_OF.get(fmt)
    notes = []
    if container is None:
        container = "wav"
        notes.append(f"Source was {fmt}, which is not offered for export: writing WAV at its bit depth.")
    if sample_format not in CONTAINERS[container].sample_formats:
        sample_format = "pcm24"  # FLAC holds no 32-bit or float samples
        notes.append(f"{CONTAINERS[container].label} cannot hold the source's {subtype} samples: writing 24-bit.")
    if subtype in ("PCM_S8", "PCM_U8", "ULAW", "ALAW"):
        notes.append(f"Source was {subtype.replace('_', ' ')}: 16-bit holds every sample exactly.")
    return SourceFormat(container, sample_format, rate, channels, " ".join(notes))


def source_container(settings: dict[str, Any]) -> str:
    """The container "same as source" picks for an entry with these settings (it never depends on the audio)."""
    recorded = recorded_format(settings)
    if recorded is None:
        return GENERATED_DEFAULT[0]
    fmt, subtype = recorded
    if subtype in LOSSY_SUBTYPES or fmt in ("MP3", "OGG"):
        return LOSSY_DEFAULT[0]
    return _CONTAINER_OF.get(fmt, "wav")


def clipping_warning(clip: Clip, sample_format: Optional[str]) -> str:
    """A line when integer samples would clip the clip's peaks (e.g. after a gain edit), else ''."""
    if sample_format is None or sample_format in FLOAT_FORMATS:
        return ""
    top = peak(clip)
    if top <= 1.0:
        return ""
    return (f"The audio peaks at {20 * np.log10(top):+.1f} dBFS: {SAMPLE_FORMAT_LABELS[sample_format]} clips "
            "it; choose 32-bit float, or normalise first.")
