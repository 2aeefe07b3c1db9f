"""Progress reports and cancellation shared by every long-running core job."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Optional, Union

from core.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    """One progress report: `stage` is encoding, denoising, decoding or scoring."""

    stage: str
    step: int
    total: int

    @property
    def fraction(self) -> float:
        return self.step / self.total if self.total else 0.0


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Thread-safe cancel flag: the GUI or a signal handler sets it, the job polls it."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def __call__(self) -> bool:
        return self.cancelled


CancelCheck = Optional[Union[CancelToken, Callable[[], bool]]]


def raise_if_cancelled(cancel: CancelCheck) -> None:
    if cancel is not None and cancel():
        raise Cancelled("cancelled")


def report(callback: Optional[ProgressCallback], stage: str, step: int, total: int) -> None:
    if callback is not None:
        callback(Progress(stage, step, total))
