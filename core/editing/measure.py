"""Loudness (ITU-R BS.1770-4 integrated) and true peak (8x oversampled), with numpy and scipy only.

Loudness: the Recommendation's K-weighting coefficients, exactly as its tables give them for 48 kHz; audio
at another rate is resampled to 48 kHz for the measurement (soxr HQ), so every rate is weighted by the same curve
(filters designed for 8 kHz by the usual bilinear method are up to 0.25 dB off it). Each channel is filtered
with `scipy.signal.sosfilt` chunk by chunk (state carried, one channel per thread), its squares summed per
100 ms segment; a gating block is four consecutive segments, and there are floor((T - 0.4) / 0.1) + 1 of them
(BS.1770's index range: a block never runs past the end). Gating is vectorised over the blocks.

True peak: the signal oversampled 8x by a 384-tap Kaiser-windowed sinc (48 taps per phase, flat to 0.01 dB
up to 0.9 of the Nyquist frequency). BS.1770's own 4x interpolator reads inter-sample peaks up to ~0.15 dB low
on real recordings; this reads within 0.02 dB of ffmpeg's `ebur128=peak=true` and of sox's 8x resampling
(tests/test_loudness_reference.py). The 8x values are computed only where the peak can be: BS.1770's 4x
interpolator, about a tenth of the work, screens every block that could matter (as a BLAS product of
overlapping sample rows and a banded phase matrix), and the 8x values are computed around its local maxima
within SCREEN_MARGIN_DB of the best so far (or of the threshold that matters), equal to brute-force 8x
oversampling of the whole signal (tests/test_editing_measure.py).
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
    out = np.abs(windows.reshape(-1, windows.shape[-1]) @ _matrix("screen"))
    out = out.reshape(len(blocks), channels, rows_per, len(SCREEN_PHASES), SCREEN_ROW).max(axis=(1, 3))
    return out.reshape(len(blocks), rows_per * SCREEN_ROW)


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


def _exact_blocks(samples: np.ndarray, blocks: np.ndarray) -> float:
    """The largest |8x value| over whole blocks (and the ring after each): every window start in them."""
    starts = (blocks[:, None] * TRUE_PEAK_BLOCK_FRAMES + np.arange(-TAPS, TRUE_PEAK_BLOCK_FRAMES + TAPS,
                                                                 EXACT_WINDOWS)[None, :]).ravel()
    return _exact_around(samples, starts + REACH + TAPS // 2 - 1)


def _phase_l1() -> float:
    """Bound on |oversampled value| / (largest |sample| under the taps), with room for float32 rounding."""
    return float(np.abs(phases()).sum(axis=1).max()) * (1 + 1e-5)


def true_peak_over(samples: np.ndarray, threshold: float) -> float:
    """The true peak (linear, the larger of the 8x oversampled and the sample peak) whenever it exceeds
    `threshold`; otherwise some value at most `threshold`."""
    return peaks_over(samples, threshold)[1]


def peaks_over(samples: np.ndarray, threshold: float) -> tuple[float, float]:
    """(the sample peak, `true_peak_over(samples, threshold)`), from one pass for the blocks' peaks.

    Blocks whose sample peak x the screen's largest sum of |taps| (x the screen margin) cannot reach
    `threshold` are skipped; the others go through the cheap 4x screen. The 8x values are then computed only
    around the screen's local maxima within SCREEN_MARGIN_DB of what matters (the best 8x value found so far,
    or `threshold`): where a true peak above them can be."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size == 0:
        return 0.0, 0.0
    if samples.ndim == 1:
        samples = samples[:, None]
    peaks = _block_peaks(samples)
    sample_peak = float(peaks.max())
    margin = 10 ** (SCREEN_MARGIN_DB / 20)
    local = np.maximum(peaks, np.concatenate([[0.0], peaks[:-1]]))  # the screen's taps reach back a block
    order = np.argsort(-local, kind="stable")
    order = order[local[order] * SCREEN_L1 * margin > max(threshold, sample_peak)]
    screened = [( b, _screen(samples, order[i:i + BATCH_BLOCKS])) for i in range(0, len(order), BATCH_BLOCKS)
                for b in [order[i:i + BATCH_BLOCKS]]]
    if not screened:
        return sample_peak, sample_peak
    maxima = np.concatenate([values.max(axis=1) for _, values in screened])
    blocks = np.concatenate([b for b, _ in screened])
    top = int(np.argmax(maxima))
    top_values = screened[top // BATCH_BLOCKS][1][top % BATCH_BLOCKS]
    centre = int(blocks[top]) * TRUE_PEAK_BLOCK_FRAMES - (SCREEN_TAPS - 1) + int(np.argmax(top_values)) \
        + SCREEN_TAPS // 2
    best = max(sample_peak, _exact_around(samples, np.array([centre])))
    level = max(best, threshold) / margin
    for batch, values in screened:
        keep = values.max(axis=1) >= level
        for block, row in zip(batch[keep], values[keep]):
            left = np.concatenate([[0.0], row[:-1]])
            right = np.concatenate([row[1:], [0.0]])
            found = np.flatnonzero((row >= level) & (row >= left) & (row >= right))
            if len(found) * EXACT_WINDOWS * 4 > TRUE_PEAK_BLOCK_FRAMES:  # dense: the whole block is cheaper
                best = max(best, _exact_blocks(samples, np.array([block])))
                continue
            starts = int(block) * TRUE_PEAK_BLOCK_FRAMES - (SCREEN_TAPS - 1) + found
            best = max(best, _exact_around(samples, starts + SCREEN_TAPS // 2))
    return sample_peak, best


def true_peak(samples: np.ndarray, rate: int | None = None) -> float:
    """The true peak (linear): the largest magnitude of the 8x oversampled signal or of the samples."""
    return true_peak_over(samples, 0.0)
