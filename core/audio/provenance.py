"""Where a piece of audio came from: written into exported files and a JSON sidecar beside them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core import APP_NAME, __version__
from core.audio.acid import add_acid_chunk
from core.audio.bars import acid_info
from core.audio.clip import Clip, save_clip


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


def save_with_provenance(clip: Clip, path: str | Path, provenance: Provenance, subtype: str | None = None) -> Path:
    """Write the audio with tags in the file and the full provenance in `<file>.json` beside it."""
    path = save_clip(clip, path, subtype=subtype, tags=provenance.file_tags())
    acid = acid_info(provenance.settings)
    if acid is not None and path.suffix.lower() == ".wav":
        add_acid_chunk(path, acid)  # tempo and beats where DAWs read them
    record = provenance.to_dict() | {"file": path.name, "sample_rate": clip.sample_rate,
                                     "channels": clip.channels, "seconds": round(clip.seconds, 6)}
    sidecar_path(path).write_text(json.dumps(record, indent=2, sort_keys=True))
    return path


def read_sidecar(audio_path: str | Path) -> dict[str, Any]:
    return json.loads(sidecar_path(Path(audio_path)).read_text())
