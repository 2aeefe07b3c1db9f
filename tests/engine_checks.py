"""Checks every engine must pass, whatever its model (the tiny 16 kHz AudioLDM 2 or the tiny 48 kHz AudioLDM)."""

from __future__ import annotations

import pytest

from core.errors import Cancelled
from core.generation.progress import CancelToken
from core.generation.requests import GenerationRequest


def assert_cancel_is_honoured_within_one_step(engine) -> None:
    """Cancelling during denoising step 2 of 10 stops the run before step 3 is reported."""
    token, steps = CancelToken(), []

    def on_progress(p):
        if p.stage == "denoising":
            steps.append(p.step)
            if p.step == 2:
                token.cancel()

    with pytest.raises(Cancelled):
        engine.generate(GenerationRequest("wind", seed=3, seconds=1.0, steps=10), progress=on_progress, cancel=token)
    assert steps[-1] == 2
