"""Loudness (ITU-R BS.1770-4 integrated) and true peak (8x oversampled), with numpy and scipy only.

Loudness: the Recommendation's K-weighting coefficients, exactly as its tables give them for 48 kHz; audio
at another rate is resampled to 48 kHz for the measurement (soxr HQ), so every rate is weighted by the same curve
(filters designed for 8 kHz by the usual bilinear method are up to 0.25 dB off it). Each channel is filtered
with `scipy.signal.sosfilt` chunk by chunk (state carried, one channel per thread), its squares summed per
100 ms segment; a gating block is four consecutive segments, and there are floor((T - 0.4) / 0.1) + 1 of them
(BS.1770's index range: a block never runs past the end). Gating is vectorised over the blocks.

True peak: every block that could matter is oversampled 8x by a 384-tap Kaiser-windowed sinc (48 taps per
phase, flat to 0.01 dB up to 0.9 of the Nyquist frequency), as one BLAS matrix product per batch of blocks
(overlapping rows of samples times a banded phase matrix). BS.1770's own 4x interpolator reads inter-sample
peaks up to ~0.15 dB low; this reads within 0.02 dB of ffmpeg's `ebur128=peak=true` and of sox's 8x
resampling on real recordings (tests/test_loudness_reference.py). Every oversampled value is a 48-tap
weighted sum of samples, so it is at most (the block's sample peak) x (the largest phase's sum of |taps|):
blocks whose bound cannot reach what matters are not oversampled.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from core.audio.downmix import LAYOUTS
from core.errors import InputError

LOUDNESS_BLOCK_SECONDS = 0.4  # BS.1770 gating block: shorter audio has no integrated loudness
ABSOLUTE_GATE_LUFS = -70.0
# BS.1770 channel weights by name, in the layouts core.audio.downmix assumes: side surrounds +1.5 dB, the LFE
# left out, back surrounds (7.1's Lb Rb, beyond 120 degrees) 1.0.
CHANNEL_WEIGHTS = {"M": 1.0, "L": 1.0, "R": 1.0, "C": 1.0, "LFE": 0.0, "Ls": 1.41, "Rs": 1.41, "Lb": 1.0, "Rb": 1.0}
MEASURE_RATE = 48_000  # the rate BS.1770 gives the K-weighting coefficients for
SEGMENT_FRAMES = MEASURE_RATE // 10  # 100 ms: a gating block is four of them, a new block every one
SEGMENTS_PER_BLOCK = 4
FILTER_CHUNK_SEGMENTS = 13  # ~62 000 frames per sosfilt call: cache-sized
# ITU-R BS.1770-4 Annex 1, Tables 1 and 2 (48 kHz): the high shelf, then the high pass, as SOS rows.
K_WEIGHTING_48K = np.array([
    [1.53512485958697, -2.69169618940638, 1.19839281085285, 1.0, -1.69065929318241, 0.73248077421585],
    [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621],
])

TRUE_PEAK_BLOCK_FRAMES = 4096
PEAK_PIECE_BLOCKS = 512  # blocks per task when finding each block's sample peak (8 MB of stereo)
OVERSAMPLING = 8
TAPS = 48  # per phase


def _interpolator() -> np.ndarray:
    """(OVERSAMPLING, TAPS): phase p of the 8x interpolating low-pass (cut-off at the input's Nyquist
    frequency, Kaiser window beta 8: stop band below -60 dB), reversed so a row times TAPS consecutive samples
    gives the value p/8 of a sample along."""
    from scipy.signal import firwin

    taps = firwin(OVERSAMPLING * TAPS, 0.5, window=("kaiser", 8.0), fs=OVERSAMPLING) * OVERSAMPLING
    return taps.reshape(TAPS, OVERSAMPLING).T[:, ::-1].copy()


_phases: np.ndarray | None = None


def phases() -> np.ndarray:
    global _phases
    if _phases is None:
        _phases = _interpolator()
    return _phases


def _workers(jobs: int) -> int:
    return max(1, min(jobs, os.cpu_count() or 1))


def _at_measure_rate(column: np.ndarray, rate: int) -> np.ndarray:
    """One channel as float64 at 48 kHz (soxr's high-quality resampler, flat to 0.91 of the Nyquist frequency,
    when the rate differs)."""
    column = np.asarray(column, dtype=np.float64)
    if rate == MEASURE_RATE:
        return column
    import soxr

    return soxr.resample(column, rate, MEASURE_RATE, quality="HQ")


def segment_energies(column: np.ndarray, rate: int, segments: int) -> np.ndarray:
    """Sum of the K-weighted channel's squares over each of the first `segments` 100 ms segments (measured at
    48 kHz; a segment past the end counts only the audio there is)."""
    from scipy.signal import sosfilt

    x = _at_measure_rate(column, rate)
    energies = np.zeros(segments, np.float64)
    state = np.zeros((len(K_WEIGHTING_48K), 2))
    chunk = SEGMENT_FRAMES * FILTER_CHUNK_SEGMENTS
    end = min(len(x), segments * SEGMENT_FRAMES)
    for start in range(0, end, chunk):
        filtered, state = sosfilt(K_WEIGHTING_48K, x[start:min(end, start + chunk)], zi=state)
        first, whole = start // SEGMENT_FRAMES, len(filtered) // SEGMENT_FRAMES
        rows = filtered[:whole * SEGMENT_FRAMES].reshape(whole, SEGMENT_FRAMES)
        energies[first:first + whole] = np.einsum("ij,ij->i", rows, rows)
        if whole * SEGMENT_FRAMES < len(filtered):  # the audio ends inside a segment
            rest = filtered[whole * SEGMENT_FRAMES:]
            energies[first + whole] = float(np.dot(rest, rest))
    return energies


def gating_blocks(frames: int, rate: int) -> int:
    """BS.1770's count of 400 ms blocks, one every 100 ms, that fit in `frames` at `rate`: floor((T - 0.4) /
    0.1) + 1, in whole numbers (0 when the audio is shorter than a block)."""
    if frames * 10 < 4 * rate:
        return 0
    return (frames * 10 - 4 * rate) // rate + 1


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770-4: K-weighted, gated at -70 LUFS and 10 LU below the
    ungated level); -inf for silence."""
    frames, channels = samples.shape
    blocks = gating_blocks(frames, rate)
    if blocks == 0:
        raise InputError(f"loudness needs at least {LOUDNESS_BLOCK_SECONDS} s of audio; select more, or "
                         "normalise to a peak instead.")
    if channels not in LAYOUTS:
        raise InputError(f"loudness (BS.1770) needs a known channel layout; this clip has {channels} channels "
                         "(known: 1-6 and 8). Normalise to a peak instead.")
    used = [(c, CHANNEL_WEIGHTS[name]) for c, name in enumerate(LAYOUTS[channels][1]) if CHANNEL_WEIGHTS[name]]
    segments = blocks + SEGMENTS_PER_BLOCK - 1
    with ThreadPoolExecutor(_workers(len(used))) as pool:  # sosfilt and soxr release the GIL
        energies = list(pool.map(lambda c: segment_energies(samples[:, c], rate, segments), [c for c, _ in used]))
    z = np.empty((len(used), blocks))
    for c, seg in enumerate(energies):  # a block's mean square: 4 consecutive segments
        cs = np.concatenate([[0.0], np.cumsum(seg)])
        z[c] = (cs[SEGMENTS_PER_BLOCK:SEGMENTS_PER_BLOCK + blocks] - cs[:blocks]) / (SEGMENTS_PER_BLOCK
                                                                                    * SEGMENT_FRAMES)
    weights = np.array([w for _, w in used])[:, None]
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10((weights * z).sum(axis=0))
        above_absolute = block_lufs > ABSOLUTE_GATE_LUFS
        if not above_absolute.any():
            return float("-inf")
        relative = -0.691 + 10.0 * np.log10((weights[:, 0] * z[:, above_absolute].mean(axis=1)).sum()) - 10.0
        gated = above_absolute & (block_lufs > relative)
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


BATCH_BLOCKS = 16  # blocks per matrix product
ROW_OUTPUTS = 64  # input positions per matrix row: each row gives 8 x 64 oversampled values


def _phase_matrix(width: int) -> np.ndarray:
    """(width + TAPS - 1, 8 * width) float32: a row of width + TAPS - 1 consecutive samples times it gives the
    eight phases' outputs at its `width` positions, so the whole interpolator is one BLAS matrix product."""
    matrix = np.zeros((width + TAPS - 1, OVERSAMPLING, width), np.float32)
    for k in range(width):
        matrix[k:k + TAPS, :, k] = phases().T
    return matrix.reshape(width + TAPS - 1, -1)


_matrix: np.ndarray | None = None


def _batch_peak(samples: np.ndarray, blocks: np.ndarray) -> float:
    """Largest |8x oversampled value| of every output whose taps end in one of `blocks` (some of the next
    block's too: all are values of the same signal, zero outside the clip). The blocks' samples, every
    channel, are laid out as overlapping rows (a strided view, copied once) and multiplied by the phase
    matrix."""
    global _matrix
    if _matrix is None:
        _matrix = _phase_matrix(ROW_OUTPUTS)
    n, channels = samples.shape
    row_count = -(-(TRUE_PEAK_BLOCK_FRAMES + TAPS - 1) // ROW_OUTPUTS)  # its own outputs and the ring after
    length = row_count * ROW_OUTPUTS + TAPS - 1
    rows = np.zeros((len(blocks), channels, length), np.float32)
    for i, block in enumerate(blocks):
        lo = int(block) * TRUE_PEAK_BLOCK_FRAMES - (TAPS - 1)
        a, b = max(0, lo), min(n, lo + length)
        if a < b:
            rows[i, :, a - lo:b - lo] = samples[a:b].T
    stride_block, stride_channel, stride_frame = rows.strides
    windows = np.lib.stride_tricks.as_strided(  # (block, channel, row, taps): every channel in one product
        rows, (len(blocks), channels, row_count, ROW_OUTPUTS + TAPS - 1),
        (stride_block, stride_channel, ROW_OUTPUTS * stride_frame, stride_frame), writeable=False)
    out = windows.reshape(-1, windows.shape[-1]) @ _matrix
    return max(float(out.max()), float(-out.min()))


def _oversampled_peak(samples: np.ndarray, blocks: np.ndarray) -> float:
    """The largest |8x oversampled value| (any channel) among the outputs whose taps end in `blocks` (the
    signal is zero outside the clip), batch by batch (BLAS spreads each product over the cores)."""
    if blocks.size == 0:
        return 0.0
    return max(_batch_peak(samples, blocks[i:i + BATCH_BLOCKS]) for i in range(0, len(blocks), BATCH_BLOCKS))


def _phase_l1() -> float:
    """Bound on |oversampled value| / (largest |sample| under the taps), with room for float32 rounding."""
    return float(np.abs(phases()).sum(axis=1).max()) * (1 + 1e-5)


def true_peak_over(samples: np.ndarray, threshold: float) -> float:
    """The true peak (linear, the larger of the 8x oversampled and the sample peak) whenever it exceeds
    `threshold`; otherwise some value at most `threshold`."""
    return peaks_over(samples, threshold)[1]


def peaks_over(samples: np.ndarray, threshold: float) -> tuple[float, float]:
    """(the sample peak, `true_peak_over(samples, threshold)`), from one pass for the blocks' peaks. The
    loudest blocks are oversampled first; then only the blocks whose bound (sample peak x the interpolator's
    largest sum of |taps|) could beat both that and `threshold`."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size == 0:
        return 0.0, 0.0
    if samples.ndim == 1:
        samples = samples[:, None]
    peaks = _block_peaks(samples)
    # the taps of a block's first outputs reach back into the block before it
    local = np.maximum(peaks, np.concatenate([[0.0], peaks[:-1]]))
    order = np.argsort(-local, kind="stable")
    bounds = local[order] * _phase_l1()
    loudest = order[:max(1, len(order) // 100)]
    loudest = loudest[bounds[:len(loudest)] > threshold]  # (none when the gain cannot reach the limit)
    sample_peak = float(peaks.max())
    best = max(sample_peak, _oversampled_peak(samples, loudest))
    rest = order[len(loudest):][bounds[len(loudest):] > max(best, threshold)]  # bounds descend: a prefix
    return sample_peak, max(best, _oversampled_peak(samples, rest))


def true_peak(samples: np.ndarray, rate: int | None = None) -> float:
    """The true peak (linear): the largest magnitude of the 8x oversampled signal or of the samples."""
    return true_peak_over(samples, 0.0)
