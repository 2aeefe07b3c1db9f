"""Whether a model's audio geometry fits LOA Studio's front-end, read from its configs before any weights load.

Everything here runs at 16 kHz, and in-context editing snaps seams to latent rows of 4 mel frames x hop 160 =
640 samples (core/generation/latents.py). A vocoder at another rate or hop, or a VAE that downsamples by another
factor, would produce audio at the wrong speed or misplaced seams, or fail deep inside a tensor operation; such a
model is refused at load, naming what does not fit. The number of mel bins may differ: the front-end reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from core.audio.mel import FrontEnd

VAE_FACTOR = 4  # mel frames per latent row on the official checkpoints


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
