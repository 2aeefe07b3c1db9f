"""Loading a model folder into a diffusers pipeline (AudioLDM 2, or the 48 kHz AudioLDM layout: core.models.kinds),
with the transformers-5 fixes applied."""

from __future__ import annotations

import contextlib
import json
import logging
import pickle
from pathlib import Path

import torch

from core.errors import ModelNotAvailable, first_line
from core.models.kinds import AUDIOLDM, folder_kind

log = logging.getLogger(__name__)


def load_pipeline(folder: Path, device: torch.device, dtype: torch.dtype):
    """Load the pipeline at `folder` onto `device` in `dtype`.

    Fixes for the official folders under transformers 5: the language model is
    declared as GPT2Model, which lacks the generation helpers the pipeline calls, so it is loaded
    as GPT2LMHeadModel (same hidden states; lm_head is tied); and `dtype` is always passed because
    the CLAP config says float64.
    """
    from safetensors import SafetensorError

    from core.quiet import quiet_model_libraries

    quiet_model_libraries()  # a front end's quiet: no load bars, errors only
    try:
        with _without_fallback_chatter():
            pipe = _from_pretrained(folder, dtype)
    except (OSError, ValueError, KeyError, RuntimeError, EOFError, pickle.UnpicklingError,
            SafetensorError) as exc:
        raise ModelNotAvailable(f"Cannot load the model in {folder}: {first_line(exc).rstrip('.')}. "
                                "The folder may be damaged; download it again.") from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def _from_pretrained(folder: Path, dtype: torch.dtype):
    if folder_kind(folder) == AUDIOLDM:
        # The 48 kHz model's layout (core.models.kinds): diffusers' AudioLDMPipeline, whose UNet may be the
        # AudioLDM 2 UNet class (two self-attention transformers per site); its type note is not a fault.
        from diffusers import AudioLDMPipeline

        with _without_type_note():
            return AudioLDMPipeline.from_pretrained(folder, dtype=dtype)
    from diffusers import AudioLDM2Pipeline
    from transformers import GPT2LMHeadModel

    language_model = GPT2LMHeadModel.from_pretrained(folder / "language_model", dtype=dtype)
    return AudioLDM2Pipeline.from_pretrained(folder, language_model=language_model, dtype=dtype)


class _DropLines(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


@contextlib.contextmanager
def _without(logger_name: str, prefix: str):
    """Within the block, the named library logger drops the records whose message starts with `prefix`."""
    drop, logger = _DropLines(prefix), logging.getLogger(logger_name)
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def _without_type_note():
    """diffusers notes that the AudioLDM 2 UNet class is not the one AudioLDMPipeline expects: not a fault."""
    return _without("diffusers.pipelines.pipeline_utils", "Expected types for")


def _without_fallback_chatter():
    """diffusers logs an error when a component has no .safetensors file, then loads its .bin instead: a line on
    the terminal for a folder that loads fine, or a second line beside ours when the .bin fails too."""
    return _without("diffusers.models.modeling_utils", "An error occurred while trying to fetch")


def is_speech_folder(folder: Path) -> bool:
    """Whether the folder holds a text-to-speech checkpoint, told by its layout: a VITS phoneme encoder as the
    second text encoder (False for anything unreadable; check_model_folder reports that)."""
    try:
        index = json.loads((Path(folder) / "model_index.json").read_text())
        spec = index.get("text_encoder_2") if isinstance(index, dict) else None
        if isinstance(spec, list) and len(spec) == 2 and spec[1] == "VitsModel":
            return True
        config = json.loads((Path(folder) / "text_encoder_2" / "config.json").read_text())
        return isinstance(config, dict) and config.get("model_type") == "vits"
    except (OSError, ValueError):
        return False
