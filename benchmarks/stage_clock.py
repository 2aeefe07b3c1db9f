"""Where one generation's seconds go, stage by stage, for the stock pipeline and our engine alike.

The stages are the pipeline parts both paths call: text encoding (CLAP text, T5, the GPT-2 rollout; stock's
`pipe.encode_prompt`, ours `core.generation.encoding.encode_values`),
`pipe.vae.decode` plus `pipe.mel_spectrogram_to_waveform` (decode), and CLAP ranking (`engine.rank` for ours,
`pipe.score_waveforms` for stock, which ranks only several takes). The rest of a run is the denoising loop and
glue. Each wrapper synchronises the device at its edges only (a few syncs per run; none inside the UNet loop).

Why it exists: on a 2-core CPU shared with other jobs, one busy process beside the benchmark made a guided UNet
step 4x slower and `encode_prompt` 5x slower (2 OpenMP threads waiting at barriers for a descheduled one), so a
whole-run figure cannot tell a busy machine from a slower code path (docs/developers.md, "Speed").
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import torch

STAGES = ("encode", "decode", "score")
# (whose method, its name, the stage it counts toward): methods an object lacks are skipped
TARGETS = (("pipe", "encode_prompt", "encode"), ("encoding", "encode_values", "encode"), ("vae", "decode", "decode"),
           ("pipe", "mel_spectrogram_to_waveform", "decode"), ("pipe", "score_waveforms", "score"),
           ("engine", "rank", "score"))  # CLAP ranking (Engine.rank, formerly Engine.score)


def load_average() -> float | None:
    """The 1-minute load average (None where the platform has none): how busy the machine was around a run."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def no_sync(device) -> None:
    """For a CPU: nothing runs asynchronously, so a stage's edges need no synchronising."""


@contextmanager
def stage_clock(pipe, engine, sync: Callable[[torch.device], None] = no_sync,
                targets: tuple = TARGETS) -> Iterator[dict]:
    """Within the block, the seconds spent in each stage named in `targets` accumulate in the yielded dict
    (wrappers are installed on the instances and removed on exit)."""
    seconds = dict.fromkeys(dict.fromkeys(stage for _, _, stage in targets), 0.0)
    from core.generation import encoding

    owners = {"pipe": pipe, "vae": pipe.vae, "engine": engine, "encoding": encoding}
    installed = []

    def timed(fn, stage):
        def wrapper(*args, **kwargs):
            sync(pipe.device)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                sync(pipe.device)
                seconds[stage] += time.perf_counter() - t0
        return wrapper

    try:
        for owner, name, stage in targets:
            obj = owners[owner]
            if hasattr(obj, name):
                installed.append((obj, name, vars(obj).get(name)))  # an instance's own attribute, if it had one
                setattr(obj, name, timed(getattr(obj, name), stage))
        yield seconds
    finally:
        for obj, name, own in reversed(installed):
            if own is None:
                delattr(obj, name)
            else:
                setattr(obj, name, own)
