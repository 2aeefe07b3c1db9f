"""How long jobs took on this machine, to estimate the next one: seconds per unit of work (denoising steps x
candidates x seconds of audio) for each model and device, the last few runs kept in the settings file."""

from __future__ import annotations

import json
import statistics
from typing import Optional

KEPT_RUNS = 5


def work_units(steps: int, candidates: int, seconds: float) -> float:
    """Diffusion cost grows with steps, with the batch of candidates, and with the latent length."""
    return max(1, steps) * max(1, candidates) * max(1.0, seconds)


class JobTimes:
    def __init__(self, settings, device: str) -> None:
        self.settings = settings
        self.device = device

    def _key(self, model: str) -> str:
        return f"jobs/seconds_per_unit/{self.device}/{model}"

    def _runs(self, model: str) -> list[float]:
        try:
            runs = json.loads(self.settings._get(self._key(model), "[]", str))
        except ValueError:
            return []
        return [float(r) for r in runs if isinstance(r, (int, float)) and r > 0]

    def record(self, model: str, units: float, seconds_taken: float) -> None:
        if units > 0 and seconds_taken > 0:
            runs = (self._runs(model) + [seconds_taken / units])[-KEPT_RUNS:]
            self.settings._set(self._key(model), json.dumps(runs))

    def estimate(self, model: str, units: float) -> Optional[float]:
        """Seconds the job should take, from the median of the last runs; None before the first run."""
        runs = self._runs(model)
        return statistics.median(runs) * units if runs else None
