"""Loudness (ITU-R BS.1770-4 integrated, pyloudnorm's K-weighting) and true peak (BS.1770-4 Annex 2), fast on
long clips.

pyloudnorm filters each channel twice in float64 with `lfilter` and gates block by block in Python: 3 s for a
10-minute stereo clip. Here the same filters (pyloudnorm designs them for the rate) run in float32 over 100 ms
segments, and the gating is vectorised over the segment energies. When 100 ms is a whole number of frames the
filtering runs 16 chains at once in a numba kernel (kweighted_lanes: 0.24 -> 0.09 s for that clip); otherwise,
or without numba, as a second-order-section cascade (`scipy.signal.sosfilt`), chunk by chunk with carried
state, one channel per thread. The result stays within a few thousandths of a LU of pyloudnorm's
(tests/test_editing_measure.py).

The true peak uses the Recommendation's own 4x interpolator (48 taps, four 12-tap phases): a numba kernel
computing 16 outputs at a time, blocks dealt out to the cores, or without numba one float32 matrix product per
batch of blocks (overlapping rows of samples times a banded phase matrix: BLAS, about 3x faster than 48
separate numpy multiply-adds, but more than twice the products the kernel needs). Every oversampled value is a
12-tap weighted sum of samples, so it is at most (the block's sample peak) x (the largest phase's sum of
|taps|): blocks whose bound cannot reach what matters are not oversampled. `true_peak` is the maximum over
every block (to float32 rounding); `true_peak_over` gives the same maximum whenever it exceeds a threshold,
oversampling only the candidate blocks.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from core.audio.downmix import LAYOUTS
from core.editing import kweighted_lanes
from core.errors import InputError

LOUDNESS_BLOCK_SECONDS = 0.4  # BS.1770 gating block: shorter audio has no integrated loudness
GATE_STEP = 0.25  # blocks overlap by 75%: a new one every 100 ms
ABSOLUTE_GATE_LUFS = -70.0
# BS.1770 channel weights by name, in the layouts core.audio.downmix assumes: side surrounds +1.5 dB, the LFE
# left out, back surrounds (7.1's Lb Rb, beyond 120 degrees) 1.0.
CHANNEL_WEIGHTS = {"M": 1.0, "L": 1.0, "R": 1.0, "C": 1.0, "LFE": 0.0, "Ls": 1.41, "Rs": 1.41, "Lb": 1.0, "Rb": 1.0}
FILTER_CHUNK_FRAMES = 1 << 16
TRUE_PEAK_BLOCK_FRAMES = 4096
PEAK_PIECE_BLOCKS = 512  # blocks per task when finding each block's sample peak (8 MB of stereo)

# ITU-R BS.1770-4 Annex 2: the 48-tap interpolating FIR as four phases of 12 taps (phase p gives the value
# p/4 of a sample after each input sample).
TRUE_PEAK_PHASES = np.array([
    [0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000, -0.0594482421875, 0.1373291015625,
     0.9721679687500, -0.1022949218750, 0.0476074218750, -0.0266113281250, 0.0148925781250, -0.0083007812500],
    [-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250, -0.1665039062500, 0.4650878906250,
     0.7797851562500, -0.2003173828125, 0.1015625000000, -0.0582275390625, 0.0330810546875, -0.0189208984375],
    [-0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625000000, -0.2003173828125, 0.7797851562500,
     0.4650878906250, -0.1665039062500, 0.0891113281250, -0.0517578125000, 0.0292968750000, -0.0291748046875],
    [-0.0083007812500, 0.0148925781250, -0.0266113281250, 0.0476074218750, -0.1022949218750, 0.9721679687500,
     0.1373291015625, -0.0594482421875, 0.0332031250000, -0.0196533203125, 0.0109863281250, 0.0017089843750],
], dtype=np.float64)
TAPS = TRUE_PEAK_PHASES.shape[1]
# Bound on |oversampled value| / (largest |sample| under the 12 taps), with room for float32 rounding.
PHASE_L1 = float(np.abs(TRUE_PEAK_PHASES).sum(axis=1).max()) * (1 + 1e-5)


def _workers(jobs: int) -> int:
    return max(1, min(jobs, os.cpu_count() or 1))


def _k_weighting(rate: int) -> np.ndarray:
    """pyloudnorm's BS.1770 K-weighting filter (high shelf, then high pass) for `rate`, as float32 SOS rows with
    the passband gains folded into the first section's numerator."""
    import pyloudnorm

    sections, gain = [], 1.0
    for stage in pyloudnorm.Meter(rate)._filters.values():  # its design, so both meters agree at every rate
        b, a = stage.b, stage.a
        sections.append(np.concatenate([b / a[0], a / a[0]]))
        gain *= stage.passband_gain
    sos = np.array(sections)
    sos[0, :3] *= gain
    return sos


def _segment_energies(samples: np.ndarray, channel: int, sos: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Sum of the K-weighted channel's squares over each segment [edges[k], edges[k + 1]), filtered chunk by
    chunk (cache-sized, state carried). When every segment has the same whole number of frames (100 ms is
    whole at 8, 16, 22.05, 44.1, 48, 96 kHz...), chunks hold whole segments and each segment's energy is one
    float32 dot product (np.einsum); otherwise each chunk's squares are summed per segment (np.add.reduceat)."""
    from scipy.signal import sosfilt

    n = samples.shape[0]
    state = np.zeros((sos.shape[0], 2), np.float32)
    sos32 = sos.astype(np.float32)
    energies = np.zeros(len(edges) - 1, np.float64)
    step = _uniform_step(edges, n)
    uniform = step > 0
    chunk = step * max(1, FILTER_CHUNK_FRAMES // step) if uniform else FILTER_CHUNK_FRAMES
    end = min(n, int(edges[-1]))
    for start in range(0, end, chunk):
        stop = min(end, start + chunk)
        column = np.ascontiguousarray(samples[start:stop, channel], dtype=np.float32)
        filtered, state = sosfilt(sos32, column, zi=state)
        if uniform:
            first, whole = start // step, (stop - start) // step
            rows = filtered[:whole * step].reshape(whole, step)
            energies[first:first + whole] += np.einsum("ij,ij->i", rows, rows)
            if whole * step < len(filtered):  # the clip ends inside a segment
                energies[first + whole] += float(np.dot(filtered[whole * step:], filtered[whole * step:]))
            continue
        np.square(filtered, out=filtered)
        first = int(np.searchsorted(edges, start, side="right")) - 1  # the segment this chunk starts in
        cuts = edges[first + 1:int(np.searchsorted(edges, stop, side="left"))] - start
        sums = np.add.reduceat(filtered, np.concatenate([[0], cuts]).astype(np.intp), dtype=np.float64)
        ids = first + np.arange(len(sums))
        keep = ids < len(energies)
        energies[ids[keep]] += sums[keep]
    return energies


def _uniform_step(edges: np.ndarray, frames: int) -> int:
    """The frames per segment when every segment but a clipped last one has the same whole length, else 0."""
    step = int(edges[1] - edges[0])
    return step if step > 0 and np.array_equal(edges, np.minimum(step * np.arange(len(edges)), frames)) else 0


def _lane_energies(samples: np.ndarray, sos: np.ndarray, edges: np.ndarray) -> np.ndarray | None:
    """Segment energies through kweighted_lanes (whole segments of one length: 100 ms is a whole number of
    frames), the partial last segment filtered on its own after a warm-up; None where that does not apply."""
    frames, channels = samples.shape
    step = _uniform_step(edges, frames)
    if not step or channels > kweighted_lanes.LANES or not kweighted_lanes.available():
        return None
    count = len(edges) - 1
    whole = min(count, frames // step)
    energies = np.zeros((channels, count), np.float64)
    energies[:, :whole] = kweighted_lanes.whole_segment_energies(samples, sos, step, whole, _workers(2))
    if whole < count and whole * step < frames:  # the clip ends inside a segment
        from scipy.signal import sosfilt

        start = whole * step
        lead = max(0, start - kweighted_lanes.warm_up_frames(sos))
        tail = sosfilt(sos, samples[lead:].astype(np.float64), axis=0)[start - lead:]
        energies[:, whole] = np.einsum("ij,ij->j", tail, tail)
    return energies


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4, gated as pyloudnorm gates it); -inf for silence."""
    frames, channels = samples.shape
    if frames < int(LOUDNESS_BLOCK_SECONDS * rate) + 1:
        raise InputError(f"loudness needs at least {LOUDNESS_BLOCK_SECONDS} s of audio; select more, or "
                         "normalise to a peak instead.")
    if channels not in LAYOUTS:
        raise InputError(f"loudness (BS.1770) needs a known channel layout; this clip has {channels} channels "
                         "(known: 1-6 and 8). Normalise to a peak instead.")
    used = [(c, CHANNEL_WEIGHTS[name]) for c, name in enumerate(LAYOUTS[channels][1]) if CHANNEL_WEIGHTS[name]]
    block = LOUDNESS_BLOCK_SECONDS * rate
    blocks = int(np.round((frames / rate - LOUDNESS_BLOCK_SECONDS) / (LOUDNESS_BLOCK_SECONDS * GATE_STEP))) + 1
    segments_per_block = int(round(1 / GATE_STEP))
    edges = np.minimum((LOUDNESS_BLOCK_SECONDS * GATE_STEP * rate * np.arange(blocks + segments_per_block))
                       .astype(np.int64), frames)
    sos = _k_weighting(rate)
    channel_ids = [c for c, _ in used]
    measured = samples if channel_ids == list(range(channels)) else samples[:, channel_ids]  # (no LFE)
    energies = _lane_energies(measured, sos, edges)
    if energies is None:
        with ThreadPoolExecutor(_workers(len(used))) as pool:
            energies = list(pool.map(lambda c: _segment_energies(samples, c, sos, edges), channel_ids))
    z = np.empty((len(used), blocks))
    for c, seg in enumerate(energies):  # a block is 4 consecutive 100 ms segments
        cs = np.concatenate([[0.0], np.cumsum(seg)])
        z[c] = (cs[segments_per_block:segments_per_block + blocks] - cs[:blocks]) / block
    weights = np.array([w for _, w in used])[:, None]
    weighted = (weights * z).sum(axis=0)
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(weighted)
        above_absolute = block_lufs >= ABSOLUTE_GATE_LUFS
        if not above_absolute.any():
            return float("-inf")
        relative = -0.691 + 10.0 * np.log10((weights[:, 0] * z[:, above_absolute].mean(axis=1)).sum()) - 10.0
        gated = (block_lufs > relative) & (block_lufs > ABSOLUTE_GATE_LUFS)
        if not gated.any():
            return float("-inf")
        return float(-0.691 + 10.0 * np.log10((weights[:, 0] * z[:, gated].mean(axis=1)).sum()))


def _block_peaks(samples: np.ndarray) -> np.ndarray:
    """Largest |sample| (any channel) of each TRUE_PEAK_BLOCK_FRAMES block (the last block may be short):
    contiguous reductions over the interleaved frames, no per-channel copy, pieces spread over the cores."""
    n, channels = samples.shape
    whole = n // TRUE_PEAK_BLOCK_FRAMES * TRUE_PEAK_BLOCK_FRAMES
    shaped = samples[:whole].reshape(-1, TRUE_PEAK_BLOCK_FRAMES * channels)
    pieces = [shaped[i:i + PEAK_PIECE_BLOCKS] for i in range(0, len(shaped), PEAK_PIECE_BLOCKS)]
    with ThreadPoolExecutor(_workers(len(pieces))) as pool:
        peaks = np.concatenate([np.zeros(0, np.float32)] + list(pool.map(
            lambda rows: np.maximum(rows.max(axis=1), -rows.min(axis=1)), pieces)))
    if whole < n:
        peaks = np.append(peaks, np.abs(samples[whole:]).max())
    return peaks


BATCH_BLOCKS = 8  # blocks per product: ~2 MB of float32 work (stereo) in cache, few GIL hand-offs
ROW_OUTPUTS = 16  # input positions per matrix row: each row gives 4 x 16 oversampled values


def _phase_matrix(width: int) -> np.ndarray:
    """(width + 11, 4 * width) float32: a row of width + 11 consecutive samples times it gives the four phases'
    outputs at its `width` positions, so the whole interpolator is one BLAS matrix product."""
    matrix = np.zeros((width + TAPS - 1, len(TRUE_PEAK_PHASES), width), np.float32)
    for k in range(width):
        matrix[k:k + TAPS, :, k] = TRUE_PEAK_PHASES.T
    return matrix.reshape(width + TAPS - 1, -1)


PHASE_MATRIX = _phase_matrix(ROW_OUTPUTS)


def _batch_peak(samples: np.ndarray, blocks: np.ndarray) -> float:
    """Largest |4x oversampled value| of every output whose taps end in one of `blocks` (some of the next
    block's too: all are values of the same signal, zero outside the clip). The blocks' samples, every
    channel, are laid out as overlapping rows (a strided view, copied once) and multiplied by PHASE_MATRIX."""
    n, channels = samples.shape
    row_count = -(-(TRUE_PEAK_BLOCK_FRAMES + TAPS - 1) // ROW_OUTPUTS)  # its own outputs and the ring after
    length = row_count * ROW_OUTPUTS + TAPS - 1
    rows = np.zeros((len(blocks), length, channels), np.float32)
    for i, block in enumerate(blocks):
        lo = int(block) * TRUE_PEAK_BLOCK_FRAMES - (TAPS - 1)
        a, b = max(0, lo), min(n, lo + length)
        if a < b:
            rows[i, a - lo:b - lo] = samples[a:b]
    stride_block, stride_frame, stride_channel = rows.strides
    windows = np.lib.stride_tricks.as_strided(  # (block, channel, row, taps): every channel in one product
        rows, (len(blocks), channels, row_count, ROW_OUTPUTS + TAPS - 1),
        (stride_block, stride_channel, ROW_OUTPUTS * stride_frame, stride_frame), writeable=False)
    out = windows.reshape(-1, windows.shape[-1]) @ PHASE_MATRIX
    return max(float(out.max()), float(-out.min()))


PHASES32 = TRUE_PEAK_PHASES.astype(np.float32)


def _kernel_oversampled_peak(samples: np.ndarray, blocks: np.ndarray) -> float:
    """_oversampled_peak through the numba kernel (about 1.5x the BLAS product's speed per core: it computes
    only the 48 products per output the interpolator has), the blocks dealt out to one thread per core."""
    from core.editing._kernels import oversampled_peak

    x = np.ascontiguousarray(samples, dtype=np.float32)
    ids = np.ascontiguousarray(blocks, dtype=np.int64)
    count = _workers(max(1, len(ids) // 16))  # a thread is worth it from a few dozen blocks
    if count == 1:
        return float(oversampled_peak(x, ids, TRUE_PEAK_BLOCK_FRAMES, PHASES32))
    with ThreadPoolExecutor(count) as pool:
        return float(max(pool.map(lambda k: oversampled_peak(x, ids[k::count].copy(), TRUE_PEAK_BLOCK_FRAMES,
                                                             PHASES32), range(count))))


def _oversampled_peak(samples: np.ndarray, blocks: np.ndarray) -> float:
    """The largest |4x oversampled value| (any channel) among the outputs whose taps end in `blocks` (the
    signal is zero outside the clip), in batches spread over the cores (numpy releases the GIL). BLAS is held
    to one thread meanwhile: its own threads on these small products would fight the batches (5x slower)."""
    if blocks.size == 0:
        return 0.0
    if kweighted_lanes.available():
        return _kernel_oversampled_peak(samples, blocks)
    from threadpoolctl import threadpool_limits

    batches = [blocks[i:i + BATCH_BLOCKS] for i in range(0, len(blocks), BATCH_BLOCKS)]
    count = _workers(len(batches))
    with threadpool_limits(1, user_api="blas"):
        if count == 1:
            return max(_batch_peak(samples, batch) for batch in batches)
        with ThreadPoolExecutor(count) as pool:
            return max(pool.map(lambda k: max(_batch_peak(samples, b) for b in batches[k::count]), range(count)))


def true_peak_over(samples: np.ndarray, threshold: float) -> float:
    """The BS.1770-4 true peak (linear, the larger of the 4x oversampled and the sample peak) whenever it
    exceeds `threshold`; otherwise some value at most `threshold`. The loudest blocks are oversampled first;
    then only the blocks whose bound (sample peak x PHASE_L1) could beat both that and `threshold`."""
    return peaks_over(samples, threshold)[1]


def peaks_over(samples: np.ndarray, threshold: float) -> tuple[float, float]:
    """(the sample peak, `true_peak_over(samples, threshold)`), from one pass for the blocks' peaks."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size == 0:
        return 0.0, 0.0
    if samples.ndim == 1:
        samples = samples[:, None]
    peaks = _block_peaks(samples)
    # the taps of a block's first outputs reach back into the block before it
    local = np.maximum(peaks, np.concatenate([[0.0], peaks[:-1]]))
    order = np.argsort(-local, kind="stable")
    bounds = local[order] * PHASE_L1
    loudest = order[:max(1, len(order) // 100)]
    loudest = loudest[bounds[:len(loudest)] > threshold]  # (none when the gain cannot reach the limit)
    sample_peak = float(peaks.max())
    best = max(sample_peak, _oversampled_peak(samples, loudest))
    rest = order[len(loudest):][bounds[len(loudest):] > max(best, threshold)]  # bounds descend: a prefix
    return sample_peak, max(best, _oversampled_peak(samples, rest))


def true_peak(samples: np.ndarray, rate: int | None = None) -> float:
    """The BS.1770-4 true peak (linear): the largest magnitude of the 4x oversampled signal or of the samples."""
    return true_peak_over(samples, 0.0)
