"""A model's audio geometry (rate, hop, mel bins, latent rows), read from its configs or its loaded pipeline, and
whether it fits LOA Studio's front-end, checked before any weights load.

Two front-ends are known (core.audio.mel.KNOWN): the 16 kHz one of AudioLDM 2 and AudioLDM (hop 160, 64 bins,
VAE factor 4: a latent row is 4 mel frames = 640 samples = 40 ms) and the 48 kHz one of the 48 kHz AudioLDM model
(hop 480, 256 bins, VAE factor 8: a row is 8 frames = 3840 samples = 80 ms). In-context editing snaps seams to the
model's rows. A vocoder at another rate or hop, or mel bins the VAE cannot halve down, would produce audio at the
wrong speed or fail deep inside a tensor operation; such a model is refused at load, naming what does not fit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from core.audio.mel import OFFICIAL, FrontEnd

VAE_FACTOR = 4  # mel frames per latent row on the 16 kHz checkpoints


@dataclass(frozen=True)
class ModelGeometry:
    """The front-end a model hears and speaks through, and how many mel frames one latent row holds."""

    front: FrontEnd = OFFICIAL
    vae_factor: int = VAE_FACTOR

    @property
    def rate(self) -> int:
        return self.front.sample_rate

    @property
    def samples_per_row(self) -> int:
        """Audio samples per latent row at the model's rate (640 at 16 kHz, 3840 at 48 kHz): the seam grid."""
        return self.vae_factor * self.front.hop

    @property
    def row_seconds(self) -> float:
        return self.samples_per_row / self.rate

    def rows_for_samples(self, n_samples: int) -> int:
        return -(-int(n_samples) // self.samples_per_row)


OFFICIAL_GEOMETRY = ModelGeometry()


def pipeline_geometry(pipe) -> ModelGeometry:
    """The geometry of a loaded pipeline: its vocoder's front-end and its VAE's time factor."""
    factor = int(getattr(pipe, "vae_scale_factor", 0) or 0)
    if factor <= 0:
        factor = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    return ModelGeometry(FrontEnd.from_vocoder_config(pipe.vocoder.config), factor)


def folder_geometry(folder: Path) -> ModelGeometry:
    """The geometry a model folder's configs state, without loading it."""
    return ModelGeometry(model_front_end(folder), vae_factor(folder))


def model_front_end(folder: Path) -> FrontEnd:
    """The front-end a model folder's vocoder config states (official values where it is silent)."""
    return FrontEnd.from_vocoder_config(_read(folder / "vocoder" / "config.json"))


def vae_factor(folder: Path) -> int:
    channels = _read(folder / "vae" / "config.json").get("block_out_channels") or [0] * 3
    return 2 ** (len(channels) - 1)


def geometry_problem(folder: Path) -> Optional[str]:
    """What in the model's geometry does not fit the front-end, in one sentence, or None. An AudioLDM 2 pipeline
    must have the official geometry; the AudioLDM layout (core.models.kinds) may also be the 48 kHz model's
    (48 kHz, hop 480, VAE factor 8)."""
    from core.models.kinds import GEOMETRIES, folder_kind

    front, factor = model_front_end(folder), vae_factor(folder)
    if front.n_mels % max(factor, 1):
        return f"its {front.n_mels} mel bins do not divide by the VAE's factor {factor}"
    allowed = GEOMETRIES[folder_kind(folder)]
    if (front.sample_rate, front.hop, factor) in allowed:
        return None
    # Name what differs from the nearest allowed geometry (the one at the model's rate, else the official one).
    rate, hop, want = next((g for g in allowed if g[0] == front.sample_rate), allowed[0])
    wrong = []
    if front.sample_rate != rate:
        wrong.append(f"its vocoder makes {front.sample_rate} Hz audio (LOA Studio works at {rate} Hz)")
    if front.hop != hop:
        wrong.append(f"its vocoder turns each mel frame into {front.hop} samples (the front-end's hop is {hop})")
    if factor != want:
        wrong.append(f"its VAE shrinks time by {factor} (the front-end expects {want})")
    return "; ".join(wrong)


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # check_model_folder reports missing or unreadable configs
    return data if isinstance(data, dict) else {}
