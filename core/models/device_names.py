"""The device choices of --device and the Settings dialog, torch-free so that `loa --help` need not import torch
(core.models.loading re-exports them and resolves a choice to a torch device)."""

DEVICES = ("auto", "cpu", "cuda", "mps")
# Numeric precision per stage (core.generation.precision): auto picks per device what was measured fastest
# with the fidelity held.
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
PRECISION_ENV = "LOA_PRECISION"  # the default of every Engine in the process (and of `loa batch`'s Ray workers)
