"""The kinds of pipeline LOA Studio runs, told apart by model_index.json's class name.

- "audioldm2": diffusers' AudioLDM2Pipeline (the cvssp/audioldm2* and speech checkpoints): the UNet cross-attends
  to GPT-2's generated embeddings and T5 (or VITS) states; 16 kHz.
- "audioldm": diffusers' AudioLDMPipeline, the layout the AudioLDM 2 repository's 48 kHz model converts into: the
  UNet has no text cross-attention and is conditioned by FiLM on one 512-d CLAP text embedding per take (passed as
  `class_labels`); its rate, hop and mel bins come from the vocoder config (48 kHz, hop 480, 256 bins).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

AUDIOLDM2 = "audioldm2"
AUDIOLDM = "audioldm"
PIPELINE_CLASSES = {"AudioLDM2Pipeline": AUDIOLDM2, "AudioLDMPipeline": AUDIOLDM}
# The components a pipeline of each kind cannot be built without (model_index.json must name each).
COMPONENTS = {
    AUDIOLDM2: ("vae", "text_encoder", "text_encoder_2", "projection_model", "language_model", "tokenizer",
                "tokenizer_2", "feature_extractor", "unet", "scheduler", "vocoder"),
    AUDIOLDM: ("vae", "text_encoder", "tokenizer", "unet", "scheduler", "vocoder"),
}
# (sample rate, vocoder hop, VAE time factor) each kind's front-end and in-context code are built for.
GEOMETRIES = {AUDIOLDM2: ((16_000, 160, 4),), AUDIOLDM: ((16_000, 160, 4), (48_000, 480, 8))}


def index_kind(index) -> Optional[str]:
    """The kind a parsed model_index.json describes, or None (another pipeline, or not a table)."""
    return PIPELINE_CLASSES.get(index.get("_class_name")) if isinstance(index, dict) else None


def folder_kind(folder: Path) -> str:
    """The kind of the pipeline in `folder` (AUDIOLDM2 when unreadable: check_model_folder reports that)."""
    try:
        return index_kind(json.loads((Path(folder) / "model_index.json").read_text())) or AUDIOLDM2
    except (OSError, ValueError):
        return AUDIOLDM2


def pipe_kind(pipe) -> str:
    """The kind of a loaded pipeline object."""
    return PIPELINE_CLASSES.get(type(pipe).__name__, AUDIOLDM2)


def is_film(kind: str) -> bool:
    """Whether the kind is conditioned by FiLM on a CLAP text embedding (no text cross-attention)."""
    return kind == AUDIOLDM
