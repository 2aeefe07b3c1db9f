"""The device choices of --device and the Settings dialog, torch-free so that `loa --help` need not import torch
(core.models.loading re-exports them and resolves a choice to a torch device)."""

DEVICES = ("auto", "cpu", "cuda", "mps")
