"""Which compute devices this machine can run generation on, and why the others cannot (for menus)."""

from __future__ import annotations

import platform
from dataclasses import dataclass


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
