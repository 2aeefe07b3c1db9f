"""Where a piece of audio came from: written into exported files and a JSON sidecar beside them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from core import APP_NAME, __version__
from core.audio.acid import add_acid_chunk
from core.audio.clip import LOSSY_OUTPUTS, Clip, output_format, sf_subtype_for, write_audio_file
from core.tempo.bars import acid_info


@dataclass
class Provenance:
    prompt: str
    model_id: str
    licence: str
    seed: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    score: float | None = None
    app_version: str = __version__
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def file_tags(self) -> dict[str, str]:
        """Tags libsndfile can store in WAV (INFO chunk), FLAC and OGG (Vorbis comments)."""
        return {
            "title": self.prompt[:250],
            "artist": f"{APP_NAME} / {self.model_id}",
            "copyright": f"Model licence: {self.licence}",
            "software": f"{APP_NAME} {self.app_version}",
            "date": self.created,
            "comment": json.dumps({"seed": self.seed, "model": self.model_id, "licence": self.licence,
                                   **self.settings}, sort_keys=True)[:1000],
        }


def sidecar_path(audio_path: Path) -> Path:
    return audio_path.with_name(audio_path.name + ".json")


def save_with_provenance(clip: Clip, path: str | Path, provenance: Provenance, subtype: str | None = None,
                         overwrite: bool = True) -> Path:
    """Write the audio with tags in the file and the full provenance in `<file>.json` beside it: both land
    together (atomically) or neither does. Without `overwrite`, an existing audio or sidecar file is refused."""
    return save_takes([(clip, Path(path), provenance)], subtype=subtype, overwrite=overwrite)[0]


def save_takes(takes: Sequence[tuple[Clip, Path, Provenance]], subtype: str | None = None,
               overwrite: bool = True) -> list[Path]:
    """Write several (clip, path, provenance) takes as one set: every audio file and sidecar is written to a
    temp file first, then all are renamed together, so an error or Ctrl+C leaves all or none of them. With no
    `subtype`, each take gets the generated-take rule (core.audio.formats.source.generated_sample_format: 24-bit, float
    when it peaks above 0 dBFS), as the window's drag-out and Export give it."""
    from core.fileio import atomic_outputs

    paths = [Path(path) for _, path, _ in takes]
    # a bad name fails before anything is written
    formats = [sf_subtype_for(path, _take_subtype(clip, path, subtype)) for (clip, _, _), path in zip(takes, paths)]
    targets = [p for path in paths for p in (path, sidecar_path(path))]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_outputs(targets, overwrite=overwrite) as temps:
        for i, ((clip, path, provenance), (fmt, sf_subtype)) in enumerate(zip(takes, formats)):
            try:
                write_audio_file(clip, temps[2 * i], fmt, sf_subtype, provenance.file_tags())
            except OSError as exc:  # name the file that failed (the encoder's error carries no name)
                exc.filename = exc.filename or str(temps[2 * i])
                raise
            acid = acid_info(provenance.settings)
            if acid is not None and fmt == "WAV":
                add_acid_chunk(temps[2 * i], acid)  # tempo and beats where DAWs read them
            record = sidecar_record(clip, path, provenance) | {"sha256": file_sha256(temps[2 * i])}
            temps[2 * i + 1].write_text(json.dumps(record, indent=2, sort_keys=True))
    return paths


def _take_subtype(clip: Clip, path: Path, subtype: str | None) -> str | None:
    """`subtype` when chosen; otherwise the generated-take rule for the file's container (None when lossy)."""
    if subtype is not None or path.suffix.lower() in LOSSY_OUTPUTS:
        return subtype
    from core.audio.formats.source import _CONTAINER_OF, generated_sample_format

    return generated_sample_format(clip, _CONTAINER_OF[output_format(path)])


def sidecar_record(clip: Clip, path: Path, provenance: Provenance) -> dict[str, Any]:
    return provenance.to_dict() | {"file": path.name, "sample_rate": clip.sample_rate,
                                   "channels": clip.channels, "seconds": round(clip.seconds, 6)}


def file_sha256(path: str | Path) -> str:
    """The sha256 of the file's bytes (kept in the sidecar, so a resume can tell a damaged file from a whole one)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_sidecar(audio_path: str | Path) -> dict[str, Any]:
    return json.loads(sidecar_path(Path(audio_path)).read_text())
