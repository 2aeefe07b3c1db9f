"""Transform (audio-to-audio): a selection re-imagined toward a prompt with its timing kept.

The selection's latent is noised to `strength` (0..1) of the schedule and denoised from there toward the
prompt (sampling.denoise with `init_latents`), so a recorded knock becomes "a knock on a metal door" on
the same beat. Audio around the selection (up to one training window) is shown as pinned context
(`KnownRegion`), so the result continues what surrounds it. The output has the input's rate, channels and
length; samples outside the selection are the input's, bit for bit, and the new audio is joined inside the
selection with 20 ms equal-power crossfades. Strength 0 returns the input unchanged without running the
model; strength 1 is close to regenerating the selection from scratch.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

import numpy as np

from core.audio.clip import Clip
from core.audio.mel import prepare_waveform
from core.audio.seams import crossfade_samples, fit_to_clip
from core.errors import InputError
from core.generation.engine import Candidate, Engine, GenerationResult
from core.generation.latents import KnownRegion, encode_wave
from core.generation.progress import CancelCheck, ProgressCallback
from core.incontext.defaults import DEFAULT_STRENGTH
from core.incontext.regenerate import (
    CONTEXT_SECONDS,
    GenerationSettings,
    check_clip,
    model_geometry,
    range_window,
    splice_range,
)


def check_transform(clip: Clip, start: float, end: float, strength: float) -> None:
    if not (isinstance(strength, (int, float)) and np.isfinite(strength) and 0.0 <= strength <= 1.0):
        raise InputError(f"strength must be a number from 0 (unchanged) to 1 (regenerated); got {strength!r}.")
    if not (0 <= start < end <= clip.seconds + 1e-9):
        raise InputError(f"the range must satisfy 0 <= start < end <= {clip.seconds:.3f} s (the clip's length); "
                         f"got start={start}, end={end}.")
    if end - start > CONTEXT_SECONDS:
        raise InputError(f"the range is {end - start:.2f} s; transform at most {CONTEXT_SECONDS:g} s at a time "
                         "(select less, then transform the rest).")


def transform(engine: Engine, clip: Clip, strength: float = DEFAULT_STRENGTH, start: float = 0.0,
              end: Optional[float] = None, settings: GenerationSettings = GenerationSettings(),
              progress: Optional[ProgressCallback] = None, cancel: CancelCheck = None) -> GenerationResult:
    """Transform [start, end) seconds of the clip (the whole clip when `end` is None) toward the prompt."""
    end = clip.seconds if end is None else end
    check_transform(clip, start, end, strength)
    extra = {"operation": "transform", "strength": float(strength), "start": start, "end": end}
    if strength == 0:
        return _unchanged(engine, clip, end - start, settings, extra)
    check_clip(clip)
    geometry = model_geometry(engine)
    rate, row = geometry.rate, geometry.samples_per_row
    window, w0, known = range_window(clip.for_model(rate), rate, row, start, end)
    rows = len(known)
    prepared, gain = prepare_waveform(window)
    pipe = engine.pipeline
    request = settings.request(end - start).validated()
    latents = encode_wave(pipe, prepared)
    constraint = KnownRegion(pipe, latents, known, seed=request.seed) if known.any() else None
    result = engine.generate(request, progress=progress, cancel=cancel, constraint=constraint,
                             mel_frames=rows * geometry.vae_factor, init_latents=latents, strength=float(strength))

    f0, f1 = int(round(start * clip.sample_rate)), min(clip.frames, int(round(end * clip.sample_rate)))
    xf = min(crossfade_samples(clip.sample_rate), (f1 - f0) // 2)
    offset_m = int(np.floor(start * rate - w0))
    clips = []
    for candidate in result.candidates:
        generated = fit_to_clip(candidate.clip.samples[offset_m:, 0], clip.sample_rate, clip.channels, f1 - f0,
                                1.0 / gain, rate)
        clips.append(splice_range(clip, f0, f1, generated, xf))
    candidates = [replace(c, clip=new, settings=c.settings | extra) for c, new in zip(result.candidates, clips)]
    return replace(result, candidates=candidates)


def _unchanged(engine: Engine, clip: Clip, seconds: float, settings: GenerationSettings,
               extra: dict) -> GenerationResult:
    """Strength 0: the input itself, once per candidate, without loading or running the model."""
    request = settings.request(seconds).validated()
    candidates = [Candidate(Clip(clip.samples.copy(), clip.sample_rate), None, request.seed + i, i,
                            dict(request.settings(), seed=request.seed + i) | extra)
                  for i in range(request.candidates)]
    return GenerationResult(candidates, request, engine.model_id, engine.licence, str(engine.device), 0.0)
