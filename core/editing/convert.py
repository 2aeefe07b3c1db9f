"""Reverse, resample (soxr), mono <-> stereo (downmixes: core.audio.downmix)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from core.audio.clip import Clip, resample
from core.audio.downmix import downmix
from core.audio.downmix import note as downmix_note
from core.editing.chunks import PARALLEL_MIN_FRAMES, PIECE_FRAMES, copy_frames, workers
from core.editing.selection import Change, EditResult, Selection, unchanged
from core.errors import InputError

MIN_RATE, MAX_RATE = 1_000, 768_000


def _reverse_into(out: np.ndarray, samples: np.ndarray) -> None:
    """Write `samples`' frames into `out` in reverse order. Each frame viewed as one integer makes this a 1-D
    copy, several times faster than reversing a (frames, channels) array along its long axis."""
    item = {1: np.int32, 2: np.int64}.get(samples.shape[1])
    if item is None or not (samples.flags.c_contiguous and out.flags.c_contiguous):
        out[:] = samples[::-1]
        return
    out.view(item).reshape(-1)[:] = samples.view(item).reshape(-1)[::-1]


def reverse(clip: Clip, selection: Selection) -> EditResult:
    """Play the selection (the whole clip when nothing is selected) backwards."""
    sel = selection.or_whole(clip)
    x = clip.samples
    out = np.empty_like(x)
    copy_frames(out[:sel.start], x[:sel.start])
    copy_frames(out[sel.end:], x[sel.end:])
    _reverse_into(out[sel.start:sel.end], x[sel.start:sel.end])
    return EditResult(Clip(out, clip.sample_rate), sel, changed=Change(sel.start, sel.end, sel.end, reversed=True),
                      operation={"op": "reverse", **sel.to_dict()})


def resample_parallel(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """`core.audio.clip.resample` (soxr, high quality), bit for bit, with a long clip's channels resampled on
    separate cores: one soxr stream per channel fed cache-sized pieces (soxr resamples channels
    independently, and its stream gives the same samples as its one-shot call)."""
    frames, channels = samples.shape
    if channels == 1 or frames < PARALLEL_MIN_FRAMES or workers() == 1:
        return resample(samples, from_rate, to_rate)
    import soxr

    out = np.empty((int(np.ceil(frames * to_rate / from_rate)) + 2, channels), np.float32)

    def channel(c: int) -> int:
        stream = soxr.ResampleStream(from_rate, to_rate, 1, dtype="float32", quality="HQ")
        pos = 0
        for a in range(0, frames, PIECE_FRAMES):
            piece = np.ascontiguousarray(samples[a:a + PIECE_FRAMES, c], dtype=np.float32)
            y = stream.resample_chunk(piece, last=a + PIECE_FRAMES >= frames)
            out[pos:pos + y.shape[0], c] = y
            pos += y.shape[0]
        return pos

    with ThreadPoolExecutor(min(channels, workers())) as pool:
        lengths = set(pool.map(channel, range(channels)))
    if len(lengths) != 1:  # cannot happen with one ratio; never hand back a ragged clip
        return resample(samples, from_rate, to_rate)
    return out[:lengths.pop()]


def resample_clip(clip: Clip, selection: Selection, rate: int) -> EditResult:
    """The whole clip at `rate` (soxr, high quality); the selection keeps its place in time."""
    if not (isinstance(rate, (int, np.integer)) and MIN_RATE <= rate <= MAX_RATE):
        raise InputError(f"the sample rate must be a whole number of Hz from {MIN_RATE} to {MAX_RATE}; got {rate!r}.")
    op = {"op": "resample", "from_rate": clip.sample_rate, "rate": int(rate)}
    if rate == clip.sample_rate:
        return unchanged(clip, selection.clamped(clip.frames), f"The clip is already at {rate} Hz.", op)
    out = Clip(resample_parallel(clip.samples, clip.sample_rate, int(rate)), int(rate))
    ratio = rate / clip.sample_rate
    sel = selection.clamped(clip.frames)
    new_sel = Selection(round(sel.start * ratio), round(sel.end * ratio)).clamped(out.frames)
    return EditResult(out, new_sel, changed=Change(0, clip.frames, out.frames), operation=op)


def _downmixed(clip: Clip, sel: Selection, channels: int, op: dict) -> EditResult:
    """The clip downmixed to `channels`; a 3+ channel clip's note says how (and if the mix passes 0 dBFS)."""
    mixed = downmix(clip.samples, channels)
    note = downmix_note(clip.channels, channels, mixed) if clip.channels > 2 else ""
    out = Clip(mixed, clip.sample_rate)
    return EditResult(out, sel, note=note, changed=Change(0, clip.frames, out.frames), operation=op)


def to_mono(clip: Clip, selection: Selection) -> EditResult:
    """Mix the channels into one: stereo's mean; 3+ channels as their BS.775 stereo downmix, averaged."""
    op = {"op": "to_mono", "from_channels": clip.channels}
    sel = selection.clamped(clip.frames)
    if clip.channels == 1:
        return unchanged(clip, sel, "The clip is already mono.", op)
    return _downmixed(clip, sel, 1, op)


def to_stereo(clip: Clip, selection: Selection) -> EditResult:
    """Copy a mono clip to both channels; downmix 3+ channels (5.1, quad, ...) to stereo (ITU-R BS.775)."""
    op = {"op": "to_stereo", "from_channels": clip.channels}
    sel = selection.clamped(clip.frames)
    if clip.channels == 2:
        return unchanged(clip, sel, "The clip is already stereo.", op)
    if clip.channels > 2:
        return _downmixed(clip, sel, 2, op)
    out = Clip(np.repeat(clip.samples, 2, axis=1), clip.sample_rate)
    return EditResult(out, sel, changed=Change(0, clip.frames, out.frames), operation=op)
