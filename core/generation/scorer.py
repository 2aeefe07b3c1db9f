"""Which CLAP ranks a model's takes.

An AudioLDM 2 pipeline carries a whole CLAP (text and audio branches, laion/clap-htsat-unfused, hearing 48 kHz) and
ranks with it. The 48 kHz AudioLDM layout carries only CLAP's text branch (its FiLM conditioning), so its takes are
ranked with the CLAP of an installed AudioLDM 2 model (the same scorer the app uses for every other take): its
text encoder, tokenizer and feature extractor only, loaded once and kept. With none installed, the takes keep seed
order and the result says why (NO_SCORER_NOTE).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import torch

NO_SCORER_NOTE = ("the takes are in seed order, not ranked: this model has no CLAP audio branch to rank them with "
                  "and no AudioLDM 2 model is installed to lend one; download one (`loa models download "
                  "cvssp/audioldm2`) and later takes are ranked.")
UNRANKED = "unranked (no AudioLDM 2 model installed to lend its CLAP)"
UNRANKED_BROKEN = "unranked (the AudioLDM 2 model's CLAP could not be loaded)"


def broken_note(reason: str) -> str:
    """The note for takes left unranked because the lending model's CLAP failed to load (the takes are kept)."""
    return f"the takes are in seed order, not ranked: {reason.rstrip('.')}."


@dataclass(frozen=True)
class BorrowedClap:
    """The scoring parts of an AudioLDM 2 pipeline, shaped like one for core.generation.scoring.clap_scores."""

    text_encoder: Any  # transformers.ClapModel
    tokenizer: Any
    feature_extractor: Any
    model_id: str
    folder: Path

    @property
    def name(self) -> str:
        """What provenance records as the scorer."""
        return f"CLAP of {self.model_id}"


_lock = threading.Lock()
_kept: dict[tuple, BorrowedClap] = {}  # one entry: the last scorer loaded, keyed by (folder, device, dtype)


def scoring_model() -> Optional[tuple[str, Path]]:
    """(id, folder) of the installed AudioLDM 2 model whose CLAP ranks FiLM-kind takes: the default model when
    installed, else the catalog's models in their order, else any other installed AudioLDM 2 model; None when
    none is installed."""
    from core.models.catalog import CATALOG, DEFAULT_MODEL
    from core.models.kinds import AUDIOLDM2, folder_kind
    from core.models.store import installed_models

    found = {m.id: m.folder for m in installed_models() if folder_kind(m.folder) == AUDIOLDM2}
    for model_id in [DEFAULT_MODEL, *CATALOG, *sorted(found)]:
        if model_id in found:
            return model_id, found[model_id]
    return None


def borrowed_clap(device: torch.device, dtype: torch.dtype = torch.float32) -> Optional[BorrowedClap]:
    """The scorer for FiLM-kind takes (see `scoring_model`), loaded on `device` once and kept; None when no AudioLDM
    2 model is installed."""
    chosen = scoring_model()
    if chosen is None:
        return None
    model_id, folder = chosen
    key = (str(folder), str(device), dtype)
    with _lock:
        if key not in _kept:
            _kept.clear()  # one scorer at a time
            _kept[key] = _load(model_id, folder, device, dtype)
        return _kept[key]


def _load(model_id: str, folder: Path, device: torch.device, dtype: torch.dtype) -> BorrowedClap:
    import transformers
    from transformers import ClapFeatureExtractor, ClapModel

    from core.errors import ModelNotAvailable, first_line
    from core.quiet import quiet_model_libraries

    quiet_model_libraries()
    try:
        index = json.loads((folder / "model_index.json").read_text())
        tokenizer_class = getattr(transformers, index["tokenizer"][1])
        # dtype always: the official CLAP config says float64
        clap = ClapModel.from_pretrained(folder / "text_encoder", dtype=dtype).to(device).eval()
        tokenizer = tokenizer_class.from_pretrained(folder / "tokenizer")
        features = ClapFeatureExtractor.from_pretrained(folder / "feature_extractor")
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as exc:
        raise ModelNotAvailable(f"Cannot load the ranking CLAP of {model_id} from {folder}: "
                                f"{first_line(exc).rstrip('.')}. Download {model_id} again.") from exc
    return BorrowedClap(clap, tokenizer, features, model_id, folder)


def forget() -> None:
    """Drop the kept scorer (tests; freeing memory)."""
    with _lock:
        _kept.clear()
