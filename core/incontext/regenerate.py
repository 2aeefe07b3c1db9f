"""In-context operations on the user's audio: continue, inpaint, extend a loop by bars, close a loop.

Every operation builds a window at the model's rate (16 kHz, or 48 kHz for the 48 kHz model) around the part
to generate, encodes it into the VAE latent, pins the known latent rows with `KnownRegion` while the engine
denoises, then puts the result back into the user's clip. The untouched region of the output is the user's
original samples (original rate, channels and format: a 44.1 kHz source stays 44.1 kHz); generated audio is
resampled to the clip's rate, spread to the clip's channels, scaled back by the
gain the model's peak normalisation applied, and joined with a 20 ms equal-power crossfade:

- continue: the crossfade covers the last 20 ms of the input (original -> the model's rendering of it),
  everything before is bit-identical, then the new seconds follow; output = input + seconds, exactly.
- inpaint: the crossfades lie inside [start, end]; everything outside is bit-identical.
- extend loop: like continue, but the window also holds the clip's start after the new bars, so the
  new material leads back into the start; output = input + bars x beats x 60 / bpm seconds, exactly;
  the last 5 ms glide onto the clip's first sample, so the loop point is click-free.
- close loop: the last `seconds` are regenerated between the clip's body and its own start.

Context rule: the model was trained on 10.24 s windows, so at most CONTEXT_SECONDS of known audio
(the last part of the clip that fits, or the part nearest the edit) is shown to it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Optional

import numpy as np

from core.audio.clip import Clip
from core.audio.mel import prepare_waveform
from core.audio.seams import crossfade_samples, equal_power_crossfade, fit_to_clip
from core.errors import InputError
from core.generation.engine import Engine, GenerationResult
from core.generation.latents import KnownRegion, encode_wave
from core.generation.progress import CancelCheck, ProgressCallback
from core.generation.requests import MAX_SECONDS, GenerationSettings  # noqa: F401 - GenerationSettings re-exported
from core.models.geometry import ModelGeometry
from core.tempo.bars import check_bars, check_bpm
from core.tempo.estimate import estimate_bpm

CONTEXT_SECONDS = 10.24
LOOP_HEAD_SECONDS = 1.0  # how much of the loop's start follows the generated part as known audio
MAX_INPAINT_SECONDS = CONTEXT_SECONDS - 1.0  # leave at least 0.5 s of context on each side
LOOP_GLIDE_SECONDS = 0.005
SILENCE_PEAK = 1e-4  # -80 dBFS
MIN_CLIP_SECONDS = 0.05  # a little over one 40 ms latent row


def check_clip(clip: Clip) -> None:
    if clip.frames == 0:
        raise InputError("the clip is empty; choose audio with sound in it.")
    if not np.isfinite(clip.samples).all():
        raise InputError("the clip holds NaN or infinite samples; load it with core.audio.clip.load_clip to repair it.")
    if clip.seconds < MIN_CLIP_SECONDS:
        raise InputError(f"the clip is {clip.seconds:.3f} s long; in-context edits need at least "
                         f"{MIN_CLIP_SECONDS} s of audio.")
    if np.abs(clip.samples).max() < SILENCE_PEAK:
        raise InputError("the clip is silent (peak below -80 dBFS); choose audio with sound in it.")


def model_geometry(engine: Engine) -> ModelGeometry:
    """The engine's model geometry: its rate, and the latent row every seam snaps to (read from the model's
    configs before it loads)."""
    return engine.geometry


def _render(engine: Engine, window: np.ndarray, known_rows: np.ndarray, settings: GenerationSettings,
            seconds_generated: float, progress, cancel) -> tuple[GenerationResult, float]:
    """Generate the unknown rows of `window` (at the model's rate, a whole number of latent rows); return the
    result and the gain that undoes the model's peak normalisation on the generated audio."""
    geometry = engine.geometry
    prepared, gain = _prepare_by_known(window, known_rows, geometry.samples_per_row)
    pipe = engine.pipeline
    request = settings.request(seconds_generated).validated()
    latents = encode_wave(pipe, prepared)
    constraint = KnownRegion(pipe, latents, known_rows, seed=request.seed)
    result = engine.generate(request, progress=progress, cancel=cancel, constraint=constraint,
                             mel_frames=len(known_rows) * geometry.vae_factor)
    return result, 1.0 / gain


def _prepare_by_known(window: np.ndarray, known_rows: np.ndarray, samples_per_row: int) -> tuple[np.ndarray, float]:
    """Peak-normalise the window as the model expects, measuring DC and peak on the known rows only:
    the audio being replaced (a click, a bad take) must not set the level of what replaces it."""
    keep = np.repeat(np.asarray(known_rows, bool), samples_per_row)[: len(window)]
    if not keep.any():
        return prepare_waveform(window)
    _, gain = prepare_waveform(window[keep])
    dc = float(np.mean(window[keep], dtype=np.float64))
    return ((window.astype(np.float64) - dc) * gain).astype(np.float32), gain


def _with_clips(result: GenerationResult, clips: list[Clip], extra: dict) -> GenerationResult:
    candidates = [replace(c, clip=clip, settings=c.settings | extra) for c, clip in zip(result.candidates, clips)]
    return replace(result, candidates=candidates)


def continue_clip(engine: Engine, clip: Clip, seconds: float, settings: GenerationSettings = GenerationSettings(),
                  progress: Optional[ProgressCallback] = None, cancel: CancelCheck = None,
                  loop_back: bool = False, exact_frames: Optional[int] = None,
                  wrap_into: Optional[np.ndarray] = None) -> GenerationResult:
    """The clip followed by `seconds` of generated audio (exactly `exact_frames` new frames if given).

    With `loop_back`, the clip's first second follows the new audio in the window, so the new audio
    leads back into the start (used by `extend_loop` and `close_loop`), and the last 5 ms glide onto the
    clip's first sample so that the loop point cannot click. `wrap_into` (with `loop_back`) replaces the
    glide: the audio that led into the clip's start when it looped on its own (an input loop's last frames);
    the new audio's end crossfades into it, so the loop point is the input's own.
    """
    check_clip(clip)
    new_frames = exact_frames if exact_frames is not None else int(round(seconds * clip.sample_rate))
    geometry = model_geometry(engine)
    rate, row = geometry.rate, geometry.samples_per_row
    new_m = int(np.ceil(new_frames / clip.sample_rate * rate))  # the new audio, in samples at the model's rate
    wave_m = clip.for_model(rate)  # resampled once: the context and the loop's head both come from it
    context = wave_m[-int(CONTEXT_SECONDS * rate):]
    head = np.zeros(0, np.float32)
    if loop_back:
        # The new audio must end exactly where the (row-aligned) head begins: trim the context's front.
        context = context[(len(context) + new_m) % row:]
        start = wave_m[: int(LOOP_HEAD_SECONDS * rate)]
        head = start[: len(start) // row * row]
    ctx_rows = len(context) // row  # rows wholly inside the clip; the seam's row is generated
    if ctx_rows == 0:
        raise InputError(f"the clip is too short to continue (needs at least {row / rate:.2f} s).")
    gen_end = -(-(len(context) + new_m) // row) * row
    window = np.concatenate([context, np.zeros(gen_end - len(context), np.float32), head])
    known = np.zeros(len(window) // row, bool)
    known[:ctx_rows] = True
    known[gen_end // row:] = True
    result, gain = _render(engine, window, known, settings, new_frames / clip.sample_rate, progress, cancel)

    xf_m = min(crossfade_samples(rate), len(context))
    xf = min(crossfade_samples(clip.sample_rate), clip.frames)
    seam_m = len(context)  # the clip's end in the window
    clips = []
    for candidate in result.candidates:
        wave = candidate.clip.samples[:, 0]
        # From 20 ms before the seam: the model's rendering of the clip's last 20 ms, then the new audio.
        generated = fit_to_clip(wave[seam_m - xf_m:], clip.sample_rate, clip.channels, xf + new_frames, gain, rate)
        if loop_back and wrap_into is not None:
            n = min(xf, new_frames, len(wrap_into))
            generated[-n:] = equal_power_crossfade(generated[-n:], wrap_into[-n:])
        elif loop_back:
            glide_to(generated, clip.samples[0], crossfade_samples(clip.sample_rate, LOOP_GLIDE_SECONDS))
        joined = equal_power_crossfade(clip.samples[clip.frames - xf:], generated[:xf])
        out = np.concatenate([clip.samples[: clip.frames - xf], joined, generated[xf:]])
        clips.append(Clip(out, clip.sample_rate))
    return _with_clips(result, clips, {"operation": "continue", "added_seconds": new_frames / clip.sample_rate})


def glide_to(audio: np.ndarray, target: np.ndarray, n: int) -> None:
    """Ramp the last `n` frames of `audio` (in place) linearly onto the per-channel value `target`."""
    n = min(n, len(audio))
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)[:, None]
    audio[-n:] = audio[-n:] * (1 - ramp) + target[None, :] * ramp


def inpaint(engine: Engine, clip: Clip, start: float, end: float, settings: GenerationSettings = GenerationSettings(),
            progress: Optional[ProgressCallback] = None, cancel: CancelCheck = None) -> GenerationResult:
    """Regenerate [start, end) seconds of the clip; samples outside that range are returned unchanged."""
    check_clip(clip)
    check_range(clip, start, end)
    geometry = model_geometry(engine)
    rate, row = geometry.rate, geometry.samples_per_row
    window, w0, known = range_window(clip.for_model(rate), rate, row, start, end)
    result, gain = _render(engine, window, known, settings, end - start, progress, cancel)

    f0, f1 = int(round(start * clip.sample_rate)), min(clip.frames, int(round(end * clip.sample_rate)))
    xf = min(crossfade_samples(clip.sample_rate), (f1 - f0) // 2)
    offset_m = start * rate - w0  # where `start` falls in the window
    clips = []
    for candidate in result.candidates:
        w = candidate.clip.samples[int(np.floor(offset_m)):, 0]
        generated = fit_to_clip(w, clip.sample_rate, clip.channels, f1 - f0, gain, rate)
        clips.append(splice_range(clip, f0, f1, generated, xf))
    return _with_clips(result, clips, {"operation": "inpaint", "start": start, "end": end})


def range_window(wave: np.ndarray, rate: int, row: int, start: float,
                 end: float) -> tuple[np.ndarray, int, np.ndarray]:
    """The model-rate audio around [start, end) that the model sees (context on both sides, within one training
    window), padded to whole latent rows; the sample it starts at; and per row whether it is known audio to keep
    (False inside the range, and for a last row padded with silence: that is not the user's audio)."""
    pad = (CONTEXT_SECONDS - (end - start)) / 2
    w0 = max(0, int((start - pad) * rate)) // row * row
    w1 = min(len(wave), int(np.ceil((end + pad) * rate)))
    window = np.pad(wave[w0:w1], (0, -(w1 - w0) % row))
    rows = len(window) // row
    known = np.ones(rows, bool)
    known[int(np.floor((start * rate - w0) / row)):min(rows, int(np.ceil((end * rate - w0) / row)))] = False
    known[(w1 - w0) // row:] = False
    return window, w0, known


def splice_range(clip: Clip, f0: int, f1: int, generated: np.ndarray, xf: int) -> Clip:
    """`clip` with frames f0:f1 replaced by `generated`, crossfaded over `xf` frames on each side.

    Crossfade only on a side where the user's audio goes on: a range reaching the clip's start or end is replaced
    to the edge, with nothing of the original faded back in. Frames outside the range stay bit for bit.
    """
    region = generated.copy()
    if xf > 0 and f0 > 0:
        region[:xf] = equal_power_crossfade(clip.samples[f0:f0 + xf], generated[:xf])
    if xf > 0 and f1 < clip.frames:
        region[-xf:] = equal_power_crossfade(generated[-xf:], clip.samples[f1 - xf:f1])
    out = clip.samples.copy()
    out[f0:f1] = region
    return Clip(out, clip.sample_rate)


def check_range(clip: Clip, start: float, end: float) -> None:
    """Inpainting needs 0 <= start < end <= length, and a range the model's window can hold with context."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InputError(f"the {name} of the range must be a time in seconds within the clip (0 to {clip.seconds:.3f}); "
                             f"got {value!r}.")
    if not (0 <= start < end <= clip.seconds + 1e-9):
        raise InputError(f"the range must satisfy 0 <= start < end <= {clip.seconds:.3f} s (the clip's length); "
                         f"got start={start}, end={end}.")
    if end - start > MAX_INPAINT_SECONDS:
        raise InputError(f"the range is {end - start:.2f} s; inpaint at most {MAX_INPAINT_SECONDS:.2f} s at a time.")


def bars_to_frames(bars: int, bpm: float, rate: int, beats_per_bar: int = 4) -> int:
    return int(round(bars * beats_per_bar * 60.0 / bpm * rate))


def extend_loop(engine: Engine, clip: Clip, bars: int, bpm: Optional[float] = None, beats_per_bar: int = 4,
                settings: GenerationSettings = GenerationSettings(), progress: Optional[ProgressCallback] = None,
                cancel: CancelCheck = None) -> GenerationResult:
    """Add exactly `bars` bars (sample-accurate at the clip's rate) that lead back into the clip's start."""
    check_clip(clip)
    check_bars(bars, beats_per_bar)
    bpm = estimate_bpm(clip, beats_per_bar) if bpm is None else check_bpm(bpm)
    frames = bars_to_frames(bars, bpm, clip.sample_rate, beats_per_bar)
    if frames / clip.sample_rate > MAX_SECONDS:
        raise InputError(f"{bars} bars of {beats_per_bar} beats at {bpm:g} bpm last {frames / clip.sample_rate:.1f} s; "
                         f"add at most {MAX_SECONDS:g} s at a time (fewer bars, then extend again).")
    result = continue_clip(engine, clip, frames / clip.sample_rate, settings, progress, cancel,
                           loop_back=True, exact_frames=frames, wrap_into=clip.samples)
    extra = {"operation": "extend_loop", "bars": bars, "bpm": bpm, "beats_per_bar": beats_per_bar}
    return _with_clips(result, [c.clip for c in result.candidates], extra)


MIN_CLOSING_SECONDS = 0.1


def close_loop(engine: Engine, clip: Clip, seconds: Optional[float] = None,
               settings: GenerationSettings = GenerationSettings(), progress: Optional[ProgressCallback] = None,
               cancel: CancelCheck = None) -> GenerationResult:
    """Regenerate the clip's last `seconds` so that its end flows into its start when looped.

    The window is [context before the tail][tail, unknown][the clip's first second, known]; the output
    has the input's length, with everything before the tail unchanged. `seconds` defaults to
    `default_closing_seconds(clip)`: 1 s, or a quarter of a clip shorter than 4 s.
    """
    check_clip(clip)
    if seconds is None:
        if clip.seconds / 2 < MIN_CLOSING_SECONDS:
            raise InputError(f"the clip is too short to close as a loop ({clip.seconds:.2f} s; closing regenerates "
                             f"at least its last {MIN_CLOSING_SECONDS:g} s, so it needs "
                             f"{2 * MIN_CLOSING_SECONDS:g} s or more).")
        seconds = default_closing_seconds(clip)
    if not (isinstance(seconds, (int, float)) and MIN_CLOSING_SECONDS <= seconds <= clip.seconds / 2):
        raise InputError(f"the closing region must be from {MIN_CLOSING_SECONDS:g} s to half the clip ({clip.seconds / 2:.2f} s); "
                         f"got {seconds!r}.")
    body = Clip(clip.samples[: clip.frames - int(round(seconds * clip.sample_rate))], clip.sample_rate)
    tail_frames = clip.frames - body.frames
    result = continue_clip(engine, body, tail_frames / clip.sample_rate, settings, progress, cancel,
                           loop_back=True, exact_frames=tail_frames)
    return _with_clips(result, [c.clip for c in result.candidates], {"operation": "close_loop",
                                                                     "closing_seconds": seconds})


def default_closing_seconds(clip: Clip) -> float:
    """How much of a loop's end `close_loop` regenerates unless told: 1 s, or a quarter of a short clip."""
    return min(1.0, max(MIN_CLOSING_SECONDS, clip.seconds / 4))
