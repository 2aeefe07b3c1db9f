"""Readable file names for generated audio: a slug of the prompt plus the seed."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path


def slugify(text: str, max_length: int = 48) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return slug[:max_length].rstrip("-") or "untitled"


def clip_file_name(prompt: str, seed: int | None, extension: str = ".wav", settings: dict | None = None) -> str:
    """slug_sSEED.ext; a bar-locked take (settings with `bar_locked`) gets slug_97bpm_4bars_sSEED.ext,
    the tempo where DAWs look for it in a file name."""
    from core.tempo.bars import meter_of, tempo_tag

    settings = settings or {}
    tempo = tempo_tag(settings.get("bpm"), settings.get("bars"), *meter_of(settings)) \
        if settings.get("bar_locked") else ""
    suffix = f"_s{seed}" if seed is not None else ""
    return f"{slugify(prompt)}{tempo}{suffix}{extension}"


def numbered_paths(out: Path, count: int) -> list[Path]:
    """OUT.wav for one file; OUT-1.wav ... OUT-K.wav (best first) for several."""
    if count == 1:
        return [out]
    return [out.with_name(f"{out.stem}-{i}{out.suffix}") for i in range(1, count + 1)]


def unique_path(path: Path) -> Path:
    """`path`, or `stem-2.ext`, `stem-3.ext`... if a file by that name, or its `.json` sidecar, already exists
    (a file written with provenance must not land on someone's sidecar either)."""
    def taken(candidate: Path) -> bool:
        return os.path.lexists(candidate) or os.path.lexists(candidate.with_name(candidate.name + ".json"))

    if not taken(path):
        return path
    number = 2
    while True:
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        if not taken(candidate):
            return candidate
        number += 1


# In-context operations as a take's name says them ("intro continued").
OPERATION_WORDS = {"continue": "continued", "inpaint": "inpainted", "extend_loop": "loop extended",
                   "close_loop": "loop closed"}


def take_title(prompt: str, settings: dict | None = None) -> str:
    """What a take is called in the library, on cards and in file names: the spoken words for speech, the
    source file and operation for in-context takes (plus the prompt if any), else the prompt."""
    settings = settings or {}
    words = settings.get("text") or settings.get("transcription")
    if isinstance(words, str) and words.strip():
        return " ".join(words.split())
    source, operation = settings.get("source"), settings.get("operation")
    if source or operation:
        # A library file's name ends in its seed (_s123, -2 when numbered): the seed says nothing here.
        what = re.sub(r"_s\d+(-\d+)?$", "", Path(str(source)).stem) if source else "clip"
        done = OPERATION_WORDS.get(str(operation), "continued" if operation is None else str(operation))
        title = f"{what} {done}"
        return f"{title} — {prompt.strip()}" if prompt and prompt.strip() else title
    return prompt.strip() if prompt and prompt.strip() else "untitled take"


def take_file_name(prompt: str, settings: dict | None, seed: int | None, extension: str = ".wav") -> str:
    """clip_file_name of the take's title: a speech take is named after its words, not the voice description."""
    return clip_file_name(take_title(prompt, settings), seed, extension, settings)
