"""What each export format can hold, and how a format is named to the user ("FLAC 24-bit, 44.1 kHz, stereo").

One table, used by core.audio.formats.export (validation), core.audio.formats.source ("same as source") and the studio's
Export dialog and menu, so the choices offered and the checks made never disagree. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Container:
    name: str  # our key: "wav", "flac", ...
    label: str  # what the user reads
    extension: str
    sample_formats: tuple[str, ...]  # keys of core.audio.clip.SUBTYPES it holds; () for lossy codecs
    rates: Optional[tuple[int, ...]] = None  # the only rates it holds (None: any up to max_rate)
    max_rate: int = 768_000
    max_channels: int = 64

    @property
    def lossy(self) -> bool:
        return not self.sample_formats


_PCM_AND_FLOAT = ("pcm16", "pcm24", "pcm32", "float32", "float64")
MP3_RATES = (8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000)
OPUS_RATES = (8_000, 12_000, 16_000, 24_000, 48_000)

CONTAINERS: dict[str, Container] = {c.name: c for c in (
    Container("wav", "WAV", ".wav", _PCM_AND_FLOAT),
    Container("flac", "FLAC", ".flac", ("pcm16", "pcm24"), max_rate=655_350, max_channels=8),
    Container("aiff", "AIFF", ".aiff", _PCM_AND_FLOAT),
    Container("ogg", "Ogg Vorbis", ".ogg", (), max_rate=192_000, max_channels=8),
    Container("opus", "Opus", ".opus", (), rates=OPUS_RATES, max_channels=8),
    Container("mp3", "MP3", ".mp3", (), rates=MP3_RATES, max_channels=2),
)}

SAMPLE_FORMAT_LABELS = {"pcm16": "16-bit", "pcm24": "24-bit", "pcm32": "32-bit", "float32": "32-bit float",
                        "float64": "64-bit float"}
BIT_DEPTH_FLAGS = {"pcm16": "16", "pcm24": "24", "pcm32": "32", "float32": "float", "float64": "float64"}
FLOAT_FORMATS = ("float32", "float64")
# Rates the menus and the dialog offer (any rate a source has is kept by "same as source").
EXPORT_RATES = (8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000)
MIN_RATE, MAX_RATE = 1_000, 768_000


def rate_label(rate: int) -> str:
    """44100 -> '44.1 kHz', 48000 -> '48 kHz', 22050 -> '22.05 kHz'."""
    return f"{rate / 1000:g} kHz"


def channels_label(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels} channels")


def describe(container: str, sample_format: Optional[str], rate: int, channels: int) -> str:
    """'FLAC 24-bit, 44.1 kHz, stereo'; lossy formats have no bit depth: 'MP3, 44.1 kHz, stereo'."""
    kind = CONTAINERS[container]
    head = kind.label if kind.lossy or sample_format is None else f"{kind.label} {SAMPLE_FORMAT_LABELS[sample_format]}"
    return f"{head}, {rate_label(rate)}, {channels_label(channels)}"


def combination_error(container: str, sample_format: Optional[str], rate: int, channels: int,
                      flags: bool = False) -> Optional[str]:
    """One line naming why this format cannot be written and the fix, or None when it can. `flags`: the fix is
    said in the command line's flags (--bit-depth, --format, --rate), not the Export dialog's fields."""
    kind = CONTAINERS[container]
    if kind.lossy and sample_format is not None:
        fix = ("drop --bit-depth, or use --format wav, flac or aiff" if flags else
               "set the bit depth to 'Same as source' or export as WAV, FLAC or AIFF")
        return f"{kind.label} is lossy and has no bit depth to choose; {fix}."
    if not kind.lossy and sample_format not in kind.sample_formats:
        if flags:
            offered = " or ".join(f"--bit-depth {BIT_DEPTH_FLAGS[s]}" for s in kind.sample_formats)
            fix = f"use {offered}, or --format wav"
        else:
            fix = f"choose {' or '.join(SAMPLE_FORMAT_LABELS[s] for s in kind.sample_formats)}, or export as WAV"
        return f"{kind.label} cannot hold {SAMPLE_FORMAT_LABELS.get(sample_format, sample_format)} samples; {fix}."
    if kind.rates is not None and rate not in kind.rates:
        offered = ", ".join(f"{r / 1000:g}" for r in kind.rates)
        fix = ("give --rate one of those (in Hz), or use --format wav or flac" if flags else
               "choose one of those rates, or export as WAV or FLAC")
        return f"{kind.label} cannot hold {rate_label(rate)} audio (it takes {offered} kHz); {fix}."
    if rate > kind.max_rate:
        fix = "give a lower --rate, or use --format wav" if flags else "choose a lower rate, or export as WAV"
        return f"{kind.label} cannot hold {rate_label(rate)} audio (at most {rate_label(kind.max_rate)}); {fix}."
    if channels > kind.max_channels:
        fix = "add --mono or --stereo, or use --format wav" if flags else "choose mono or stereo, or export as WAV"
        return f"{kind.label} cannot hold {channels} channels (at most {kind.max_channels}); {fix}."
    return None
