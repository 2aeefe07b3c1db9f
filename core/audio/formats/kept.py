"""The file format an edit of the user's recording is written in, so the samples kept from it read back equal.

An in-context edit (continue, inpaint, loop) keeps most of the user's samples untouched; writing them at a lower
depth, clipped or re-encoded would break that promise. So the output keeps the input's sample format: 16/24/32-bit
PCM stays as it was (8-bit and A-law/u-law become 16-bit, which holds them exactly), float stays float (samples
beyond +-1.0 included), in the input's container when we can write it. A lossy input (Ogg Vorbis/Opus, MP3) is
decoded once; re-encoding it would lose more, so its edit defaults to WAV with 32-bit float samples, which holds
the decoded samples exactly. `--format`/`--subtype` (or an -o extension) override.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from core.audio.clip import FORMATS, SUBTYPES
from core.audio.downmix import layout_label
from core.audio.formats.containers import CONTAINERS
from core.errors import InputError

LOSSY_SUBTYPES = {"VORBIS", "OPUS", "MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III", "GSM610", "G721_32",
                  "G723_24", "G723_40", "NMS_ADPCM_16", "NMS_ADPCM_24", "NMS_ADPCM_32", "VOX_ADPCM",
                  "IMA_ADPCM", "MS_ADPCM"}
KEPT_SAMPLE_FORMATS = {
    "PCM_S8": "pcm16", "PCM_U8": "pcm16", "ULAW": "pcm16", "ALAW": "pcm16", "PCM_16": "pcm16",
    "PCM_24": "pcm24", "PCM_32": "pcm32", "FLOAT": "float32", "DOUBLE": "float64", "ALAC_16": "pcm16",
    "ALAC_20": "pcm24", "ALAC_24": "pcm24", "ALAC_32": "pcm32"}
CONTAINER_EXTENSIONS = {"wav": ".wav", "flac": ".flac", "ogg": ".ogg", "aiff": ".aiff"}
LOSSLESS_DEFAULT = (".wav", "float32")


@dataclass(frozen=True)
class OutputFormat:
    extension: str  # ".wav", ".flac", ...
    subtype: Optional[str]  # a key of core.audio.clip.SUBTYPES; None for Ogg Vorbis
    note: str = ""  # said to the user when the output cannot keep everything


def kept_format(source: Path, output: Optional[Path] = None, container: Optional[str] = None,
                subtype: Optional[str] = None) -> OutputFormat:
    """How to write an edit of `source`: its container and sample format unless the user chose otherwise."""
    import soundfile as sf

    info = sf.info(str(source))
    lossy = info.subtype in LOSSY_SUBTYPES
    extension = _extension(source, output, container, lossy)
    _check_channels(source, info.channels, extension)
    fmt = FORMATS[extension]
    if subtype is not None:
        if subtype not in SUBTYPES:
            raise InputError(f"unknown --subtype {subtype!r}; use one of {', '.join(SUBTYPES)}.")
        if fmt in ("OGG", "MP3"):
            raise InputError(f"{extension[1:].upper()} is lossy and has no sample format to choose; "
                             "use --format wav or flac.")
        _check(fmt, subtype, extension)
        return OutputFormat(extension, subtype)
    if fmt in ("OGG", "MP3"):
        return OutputFormat(extension, None, f"{extension[1:].upper()} is lossy: the kept part is re-encoded, "
                                             "not kept bit for bit (use .wav or .flac to keep it exactly).")
    kept = LOSSLESS_DEFAULT[1] if lossy else KEPT_SAMPLE_FORMATS.get(info.subtype, "float32")
    if sf.check_format(fmt, SUBTYPES[kept]):
        note = ""
        if lossy and container is None and (output is None or not output.suffix):
            note = (f"{source.name} is lossy ({info.subtype.replace('_', ' ').title()}): writing WAV with 32-bit "
                    "float samples, so the kept part is not re-encoded (--format to choose another).")
        return OutputFormat(extension, kept, note)
    fallback = "pcm24"  # FLAC holds no float or 32-bit samples
    return OutputFormat(extension, fallback, f"{extension[1:].upper()} cannot hold the input's {info.subtype} "
                                             f"samples: writing 24-bit (use .wav to keep them exactly).")


def _extension(source: Path, output: Optional[Path], container: Optional[str], lossy: bool) -> str:
    if container is not None and container not in CONTAINER_EXTENSIONS:
        raise InputError(f"unknown --format {container!r}; use one of {', '.join(CONTAINER_EXTENSIONS)}.")
    chosen = CONTAINER_EXTENSIONS.get(container) if container else None
    if output is not None and output.suffix:
        suffix = output.suffix.lower()
        if chosen is not None and FORMATS.get(suffix) != FORMATS[chosen]:
            raise InputError(f"-o {output.name} and --format {container} disagree; drop one of them.")
        if suffix not in FORMATS:
            raise InputError(f"Cannot write {output.name}: unknown extension {output.suffix!r}; "
                             f"use one of {', '.join(sorted(FORMATS))}.")
        return suffix
    if chosen is not None:
        return chosen
    suffix = source.suffix.lower()
    if lossy or suffix not in FORMATS:
        return LOSSLESS_DEFAULT[0]
    return suffix


def _check_channels(source: Path, channels: int, extension: str) -> None:
    """Refuse, before the model loads, a container that cannot hold every channel of the input (MP3 holds two,
    FLAC and Ogg eight): the edit keeps all of them, and dropping some is never done silently."""
    extension = {".oga": ".ogg", ".aif": ".aiff"}.get(extension, extension)
    kind = next((c for c in CONTAINERS.values() if c.extension == extension), None)
    if kind is not None and channels > kind.max_channels:
        raise InputError(f"{kind.label} holds at most {kind.max_channels} channels and {source.name} has "
                         f"{layout_label(channels)}; write .wav to keep every channel.")


def _check(fmt: str, subtype: str, extension: str) -> None:
    import soundfile as sf

    if not sf.check_format(fmt, SUBTYPES[subtype]):
        raise InputError(f"{extension[1:].upper()} cannot hold {subtype} samples; choose another --subtype "
                         "or --format wav.")
