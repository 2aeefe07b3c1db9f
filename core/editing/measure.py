"""Loudness (ITU-R BS.1770-4 integrated) and true peak (8x oversampled).

Loudness: the Recommendation's K-weighting coefficients, exactly as its tables give them for 48 kHz; audio at
another rate is resampled to 48 kHz for the measurement (soxr HQ), so every rate is weighted by the same curve
(filters designed for 8 kHz by the usual bilinear method are up to 0.25 dB off it). The channels are filtered 16
chains at a time by a numba kernel (kweighted_lanes; without numba `scipy.signal.sosfilt` chunk by chunk, one
channel per thread: about 6x slower), the squares summed per 100 ms segment; a gating block is four consecutive
segments, and there are floor((T - 0.4) / 0.1) + 1 of them (BS.1770's index range: a block never runs past the
end). Gating is vectorised over the blocks.

True peak: the signal oversampled 8x by a 384-tap Kaiser-windowed sinc (48 taps per phase, flat to 0.01 dB up to
0.9 of the Nyquist frequency). BS.1770's own 4x interpolator reads inter-sample peaks up to ~0.15 dB low on real
recordings; this reads within 0.02 dB of ffmpeg's `ebur128=peak=true` and of sox's 8x resampling
(tests/test_loudness_reference.py). The 8x values are computed only where the peak can be: BS.1770's 4x
interpolator, about a tenth of the work, screens every block that could matter (a numba kernel; without numba a
BLAS product of overlapping sample rows and a banded phase matrix), and the 8x values are computed around its local
maxima within SCREEN_MARGIN_DB of the best so far (or of the threshold that matters), equal to brute-force 8x
oversampling of the whole signal (tests/test_editing_measure.py).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from core.audio.downmix import LAYOUTS
from core.editing import kweighted_lanes
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


def segment_energies(column: np.ndarray, segments: int) -> np.ndarray:
    """Sum of the K-weighted squares of one 48 kHz channel over each of the first `segments` 100 ms segments
    (a segment past the end counts only the audio there is): `scipy.signal.sosfilt`, chunk by chunk."""
    from scipy.signal import sosfilt

    x = np.asarray(column, dtype=np.float64)
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


def _lane_energies(x: np.ndarray, segments: int) -> np.ndarray:
    """(channels, segments): segment_energies for every channel of 48 kHz audio through the numba lanes
    (kweighted_lanes: ~6x sosfilt's speed), the partial last segment filtered after a warm-up."""
    from scipy.signal import sosfilt

    frames, channels = x.shape
    whole = min(segments, frames // SEGMENT_FRAMES)
    energies = np.zeros((channels, segments), np.float64)
    if whole:
        energies[:, :whole] = kweighted_lanes.whole_segment_energies(x, K_WEIGHTING_48K, SEGMENT_FRAMES, whole,
                                                                     _workers(2))
    if whole < segments and whole * SEGMENT_FRAMES < frames:  # the audio ends inside a segment
        start = whole * SEGMENT_FRAMES
        lead = max(0, start - kweighted_lanes.warm_up_frames(K_WEIGHTING_48K))
        tail = sosfilt(K_WEIGHTING_48K, x[lead:].astype(np.float64), axis=0)[start - lead:]
        energies[:, whole] = np.einsum("ij,ij->j", tail, tail)
    return energies


def _energies(samples: np.ndarray, rate: int, channel_ids: list[int], segments: int) -> np.ndarray:
    """(channels, segments) K-weighted segment energies of the used channels, measured at 48 kHz."""
    if kweighted_lanes.available() and len(channel_ids) <= kweighted_lanes.LANES:
        if rate == MEASURE_RATE:
            x = samples if channel_ids == list(range(samples.shape[1])) else samples[:, channel_ids]
        else:
            with ThreadPoolExecutor(_workers(len(channel_ids))) as pool:
                x = np.stack(list(pool.map(lambda c: _at_measure_rate(samples[:, c], rate), channel_ids)),
                             axis=1).astype(np.float32)
        return _lane_energies(np.ascontiguousarray(x, dtype=np.float32), segments)
    with ThreadPoolExecutor(_workers(len(channel_ids))) as pool:  # sosfilt and soxr release the GIL
        return np.stack(list(pool.map(lambda c: segment_energies(_at_measure_rate(samples[:, c], rate), segments),
                                      channel_ids)))


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
    energies = _energies(samples, rate, [c for c, _ in used], segments)
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


# ITU-R BS.1770-4 Annex 2's 4x interpolator (four phases of 12 taps): only a screen here. Cheap next to the
# 8x one, it finds where the true peak can be; it reads up to 1.3 dB (its droop at 0.45 of the sample rate)
# + 0.56 dB (a 4x grid) under the 8x value near it for content up to 0.45 fs, hence SCREEN_MARGIN_DB.
SCREEN_PHASES = np.array([
    [0.0017089843750, 0.0109863281250, -0.0196533203125, 0.0332031250000, -0.0594482421875, 0.1373291015625,
     0.9721679687500, -0.1022949218750, 0.0476074218750, -0.0266113281250, 0.0148925781250, -0.0083007812500],
    [-0.0291748046875, 0.0292968750000, -0.0517578125000, 0.0891113281250, -0.1665039062500, 0.4650878906250,
     0.7797851562500, -0.2003173828125, 0.1015625000000, -0.0582275390625, 0.0330810546875, -0.0189208984375],
    [-0.0189208984375, 0.0330810546875, -0.0582275390625, 0.1015625000000, -0.2003173828125, 0.7797851562500,
     0.4650878906250, -0.1665039062500, 0.0891113281250, -0.0517578125000, 0.0292968750000, -0.0291748046875],
    [-0.0083007812500, 0.0148925781250, -0.0266113281250, 0.0476074218750, -0.1022949218750, 0.9721679687500,
     0.1373291015625, -0.0594482421875, 0.0332031250000, -0.0196533203125, 0.0109863281250, 0.0017089843750],
])
SCREEN_TAPS = SCREEN_PHASES.shape[1]
SCREEN_MARGIN_DB = 2.5
SCREEN_L1 = float(np.abs(SCREEN_PHASES).sum(axis=1).max()) * (1 + 1e-5)
SCREEN_ROW = 16  # input positions per row of the screen's banded product
BATCH_BLOCKS = 8  # blocks per matrix product
REACH = 3  # input samples either side of a screened maximum that the 8x values are computed over
EXACT_WINDOWS = 2 * REACH + 1


def _banded(phases: np.ndarray, width: int) -> np.ndarray:
    """(width + taps - 1, phase count * width) float32: a row of consecutive samples times it gives every
    phase's output at `width` consecutive positions (column p * width + k: phase p, position k)."""
    count, taps = phases.shape
    matrix = np.zeros((width + taps - 1, count, width), np.float32)
    for k in range(width):
        matrix[k:k + taps, :, k] = phases.T
    return matrix.reshape(width + taps - 1, -1)


_matrices: dict = {}


def _matrix(name: str) -> np.ndarray:
    if name not in _matrices:
        _matrices[name] = (_banded(SCREEN_PHASES, SCREEN_ROW) if name == "screen"
                           else _banded(phases(), EXACT_WINDOWS))
    return _matrices[name]


def _screen(samples: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """(len(blocks), positions): the largest |4x value| (any phase, any channel) of the screen's window
    starting at each position block * TRUE_PEAK_BLOCK_FRAMES - (SCREEN_TAPS - 1) + j, for the block's own
    outputs and the ring after it (zero outside the clip)."""
    n, channels = samples.shape
    rows_per = -(-(TRUE_PEAK_BLOCK_FRAMES + SCREEN_TAPS - 1) // SCREEN_ROW)
    length = rows_per * SCREEN_ROW + SCREEN_TAPS - 1
    rows = np.zeros((len(blocks), channels, length), np.float32)
    for i, block in enumerate(blocks):
        lo = int(block) * TRUE_PEAK_BLOCK_FRAMES - (SCREEN_TAPS - 1)
        a, b = max(0, lo), min(n, lo + length)
        if a < b:
            rows[i, :, a - lo:b - lo] = samples[a:b].T
    sb, sc, sf = rows.strides
    windows = np.lib.stride_tricks.as_strided(rows, (len(blocks), channels, rows_per, SCREEN_ROW + SCREEN_TAPS - 1),
                                              (sb, sc, SCREEN_ROW * sf, sf), writeable=False)
    out = windows.reshape(-1, windows.shape[-1]) @ _matrix("screen")  # columns: phase-major
    np.abs(out, out=out)
    top = out[:, :SCREEN_ROW]
    for p in range(1, len(SCREEN_PHASES)):
        np.maximum(top, out[:, p * SCREEN_ROW:(p + 1) * SCREEN_ROW], out=top)
    top = top.reshape(len(blocks), channels, rows_per * SCREEN_ROW)
    best = top[:, 0]
    for c in range(1, channels):
        best = np.maximum(best, top[:, c])
    return best


def _exact_around(samples: np.ndarray, centres: np.ndarray) -> float:
    """The largest |8x value| (any channel) over the REACH input samples either side of each centre (an input
    index the screen pointed at; the signal is zero outside the clip)."""
    if centres.size == 0:
        return 0.0
    n, channels = samples.shape
    span = EXACT_WINDOWS + TAPS - 1
    # a window starting at w gives the values between w + TAPS / 2 - 1 and w + TAPS / 2
    first = centres - REACH - TAPS // 2 + 1
    best = 0.0
    for i in range(0, len(first), 1 << 14):
        index = first[i:i + (1 << 14), None] + np.arange(span)
        inside = (index >= 0) & (index < n)
        gathered = samples[np.clip(index, 0, n - 1)] * inside[..., None]  # (m, span, channels)
        windows = np.ascontiguousarray(gathered.transpose(0, 2, 1)).reshape(-1, span)
        out = windows @ _matrix("exact")
        best = max(best, float(out.max()), float(-out.min()))
    return best


def true_peak_over(samples: np.ndarray, threshold: float) -> float:
    """The true peak (linear, the larger of the 8x oversampled and the sample peak) whenever it exceeds
    `threshold`; otherwise some value at most `threshold`."""
    return peaks_over(samples, threshold)[1]


SCREEN_PHASES32 = SCREEN_PHASES.astype(np.float32)


def _kernel_screen(samples: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """_screen through the numba kernel (48 products per output, no banded-matrix waste)."""
    from core.editing._kernels import SCREEN_GROUP, screen

    positions = TRUE_PEAK_BLOCK_FRAMES + SCREEN_TAPS - 1
    width = -(-positions // SCREEN_GROUP) * SCREEN_GROUP
    out = np.empty((len(blocks), width), np.float32)
    screen(samples, np.ascontiguousarray(blocks, dtype=np.int64), TRUE_PEAK_BLOCK_FRAMES, SCREEN_PHASES32,
           positions, out)
    return out[:, :positions]


def _screen_candidates(samples: np.ndarray, blocks: np.ndarray, level: float):
    """Screen `blocks`; return (the largest screen value, its centre, and the centres and values of the screen's
    local maxima at or above `level`), compactly: a long clip's screen values are never all in memory."""
    values = _kernel_screen(samples, blocks) if kweighted_lanes.available() else _screen(samples, blocks)
    start = blocks * TRUE_PEAK_BLOCK_FRAMES - (SCREEN_TAPS - 1) + SCREEN_TAPS // 2  # centre of position 0
    flat = int(np.argmax(values))
    top_value, top_centre = float(values.flat[flat]), int(start[flat // values.shape[1]] + flat % values.shape[1])
    width = values.shape[1]
    flat_values = values.ravel()
    index = np.flatnonzero(flat_values >= level)  # few: the rest cannot matter
    where = index % width
    left = np.where(where > 0, flat_values[np.maximum(index - 1, 0)], 0.0)
    right = np.where(where < width - 1, flat_values[np.minimum(index + 1, flat_values.size - 1)], 0.0)
    index = index[(flat_values[index] >= left) & (flat_values[index] >= right)]
    which, where = index // width, index % width
    return top_value, top_centre, start[which] + where, flat_values[index], blocks[which]


def peaks_over(samples: np.ndarray, threshold: float) -> tuple[float, float]:
    """(the sample peak, `true_peak_over(samples, threshold)`), from one pass for the blocks' peaks.

    Blocks whose sample peak x the screen's largest sum of |taps| (x the screen margin) cannot reach
    `threshold` are skipped; the others go through the cheap 4x screen. The 8x values are then computed only
    around the screen's local maxima within SCREEN_MARGIN_DB of what matters (the best 8x value found so far,
    or `threshold`): where a true peak above them can be. The batches are spread over the cores with BLAS
    held to one thread each (its own threads on these small products fight each other: 3x slower)."""
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if samples.size == 0:
        return 0.0, 0.0
    if samples.ndim == 1:
        samples = samples[:, None]
    from threadpoolctl import threadpool_limits

    peaks = _block_peaks(samples)
    sample_peak = float(peaks.max())
    margin = 10 ** (SCREEN_MARGIN_DB / 20)
    floor = max(threshold, sample_peak)  # the true peak is at least the sample peak
    local = np.maximum(peaks, np.concatenate([[0.0], peaks[:-1]]))  # the screen's taps reach back a block
    order = np.flatnonzero(local * SCREEN_L1 * margin > floor)
    if order.size == 0:
        return sample_peak, sample_peak
    batches = [order[i:i + BATCH_BLOCKS] for i in range(0, len(order), BATCH_BLOCKS)]
    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(_workers(len(batches))) as pool:
        screened = list(pool.map(lambda batch: _screen_candidates(samples, batch, floor / margin), batches))
        top = max(screened, key=lambda found: found[0])
        best = max(sample_peak, _exact_around(samples, np.array([top[1]])))
        level = max(best, threshold) / margin
        centres = np.concatenate([found[2][found[3] >= level] for found in screened])
        owners = np.concatenate([found[4][found[3] >= level] for found in screened])
        blocks, counts = np.unique(owners, return_counts=True)
        dense = blocks[counts * EXACT_WINDOWS * 4 > TRUE_PEAK_BLOCK_FRAMES]  # there the whole block is cheaper
        if dense.size:
            centres = np.concatenate([centres[~np.isin(owners, dense)]] + [_block_centres(int(b)) for b in dense])
        pieces = [centres[i:i + (1 << 14)] for i in range(0, len(centres), 1 << 14)]
        found = list(pool.map(lambda piece: _exact_around(samples, piece), pieces))
    return sample_peak, max([best] + found)


def _block_centres(block: int) -> np.ndarray:
    """Centres whose REACH covers every 8x value of a block and its ring (for _exact_around)."""
    return block * TRUE_PEAK_BLOCK_FRAMES + np.arange(-TAPS, TRUE_PEAK_BLOCK_FRAMES + TAPS, EXACT_WINDOWS)


def true_peak(samples: np.ndarray, rate: int | None = None) -> float:
    """The true peak (linear): the largest magnitude of the 8x oversampled signal or of the samples."""
    return true_peak_over(samples, 0.0)
