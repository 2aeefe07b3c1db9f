"""Low-VRAM mode for 4-6 GB GPUs: model CPU offload. The pipeline stays in system memory and each model moves to
the GPU when it is called (the text encoders, then the UNet for the whole denoising loop, then the VAE decoder,
the vocoder, the CLAP scorer), the previous one going back: peak VRAM is about the largest single model instead of
all of them, for some seconds per take spent copying weights.

`--low-vram` (loa, loa batch), the window's Compute menu and `Engine(low_vram=True)` end here (LOA_LOW_VRAM=1 is
the process default, as LOA_PRECISION is for precision). It applies to CUDA only: on a CPU or MPS it is a no-op
with a one-line note. It uses diffusers' `enable_model_cpu_offload` for AudioLDM 2 (accelerate's hooks on each
model's forward, and on the VAE's encode/decode through diffusers' `apply_forward_hook`), which also serves our own
denoising loop (core.generation.sampling calls `pipe.unet(...)`, i.e. its hooked forward). Compiled graphs stay
off in this mode: CUDA graphs hold device addresses, and the weights move.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Optional

import torch

ENV = "LOA_LOW_VRAM"
ON = ("1", "on", "true", "yes")


def default_low_vram() -> bool:
    return os.environ.get(ENV, "").strip().lower() in ON


@dataclass(frozen=True)
class Decision:
    enabled: bool
    note: Optional[str] = None  # one line for the user when the request was not honoured as asked


def accelerate_available() -> bool:
    return importlib.util.find_spec("accelerate") is not None


def decide(requested: bool, device: torch.device | str, has_accelerate: Optional[bool] = None) -> Decision:
    """Whether to offload: only when asked, on CUDA, with accelerate installed; else a note saying why not."""
    if not requested:
        return Decision(False)
    kind = torch.device(device).type
    if kind != "cuda":
        return Decision(False, f"low-VRAM mode is for CUDA GPUs; ignored on {kind} (the model stays in memory "
                               "as usual).")
    if not (accelerate_available() if has_accelerate is None else has_accelerate):
        return Decision(False, "low-VRAM mode needs the 'accelerate' package (pip install accelerate); this run "
                               "keeps the whole model on the GPU.")
    return Decision(True)


def enable(pipe, device: torch.device) -> None:
    """Model CPU offload on `pipe`, executing on `device` (a CUDA device; the tests drive it with the CPU)."""
    pipe.enable_model_cpu_offload(device=device)
    pipe._loa_offload_device = torch.device(device)


def offloaded(pipe) -> bool:
    return getattr(pipe, "_loa_offload_device", None) is not None


def execution_device(module: torch.nn.Module) -> torch.device:
    """Where `module` computes: its offload hook's device when offloaded (its weights sit in system memory
    between calls), else where its weights are."""
    hook = getattr(module, "_hf_hook", None)
    device = getattr(hook, "execution_device", None)
    if device is not None:
        return torch.device(device)
    return next(module.parameters()).device


def peak_vram(device: torch.device) -> dict:
    """{"peak_vram_gb": ...} on CUDA (since the last reset), {"peak_vram": "absent: ..."} elsewhere."""
    if torch.device(device).type != "cuda":
        return {"peak_vram": f"absent: no GPU memory on {torch.device(device).type}"}
    return {"peak_vram_gb": round(torch.cuda.max_memory_allocated() / 1e9, 3)}
