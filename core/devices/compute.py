"""Compute devices in one place: the choices of --device/--precision and the Settings dialog, which of them this
machine can run generation on and why the others cannot (for menus), and a choice resolved to a torch device.

Torch-free at import, so that `loa --help` need not import torch; the functions that need it import it.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import InputError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda", "mps")
# Numeric precision per stage (core.generation.precision): auto picks per device what was measured fastest
# with the fidelity held.
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
PRECISION_ENV = "LOA_PRECISION"  # the default of every Engine in the process (and of `loa batch`'s Ray workers)


@dataclass(frozen=True)
class ComputeDevice:
    name: str  # what Engine(device=...) takes
    usable: bool
    note: str  # what it is, or why it cannot be used here


def compute_devices() -> list[ComputeDevice]:
    """auto and cpu always; cuda and mps with whether torch can use them on this machine."""
    import torch

    cuda = torch.cuda.is_available()
    mps_backend = getattr(torch.backends, "mps", None)
    mps = bool(mps_backend is not None and mps_backend.is_available())
    if cuda:
        cuda_note = torch.cuda.get_device_name(0)
    elif torch.version.cuda is None:
        cuda_note = "not usable: this PyTorch build has no CUDA support (CPU build)"
    else:
        cuda_note = "not usable: no NVIDIA GPU or driver found"
    if mps:
        mps_note = "Apple GPU"
    elif platform.system() != "Darwin":
        mps_note = "not usable: Apple MPS exists only on macOS with Apple Silicon"
    else:
        mps_note = "not usable: this Mac or PyTorch build has no MPS support"
    auto_target = "cuda" if cuda else "mps" if mps else "cpu"
    return [ComputeDevice("auto", True, f"the fastest here ({auto_target})"),
            ComputeDevice("cpu", True, "always works, slowest"),
            ComputeDevice("cuda", cuda, cuda_note),
            ComputeDevice("mps", mps, mps_note)]


def usable_device(requested: str) -> str:
    """`requested` if it can run here, else "auto" (a settings file copied from another machine)."""
    for device in compute_devices():
        if device.name == requested:
            return requested if device.usable else "auto"
    return "auto"


def pick_device(requested: str = "auto") -> torch.device:
    """CUDA, then Apple MPS, then CPU for "auto"; an explicit device must exist."""
    import torch

    if requested not in DEVICES and not requested.startswith("cuda:"):
        raise InputError(f"device {requested!r} is unknown; use one of {', '.join(DEVICES)}.")
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise InputError("device cuda was asked for but no CUDA GPU is usable here; use --device cpu or auto.")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise InputError("device mps was asked for but Apple MPS is not available; use --device cpu or auto.")
    return torch.device(requested)


def pick_dtype(device: torch.device) -> torch.dtype:
    import torch

    # Half precision halves memory and is ~4x faster on CUDA; MPS and CPU stay in float32 for accuracy.
    return torch.float16 if device.type == "cuda" else torch.float32
