"""K-weighted segment energies for BS.1770 loudness, 16 filter chains at once (numba).

An IIR filter is a chain: each output waits for the one before, so one channel filtered start to end runs at
the speed of that chain (`scipy.signal.sosfilt`: about 0.17 s for 10 minutes at 48 kHz), whatever the CPU's
vector width. Here a channel is cut into LANES stretches of whole 100 ms segments, filtered side by side so the
CPU's vector units step all of them at once (about 6x faster). Each stretch but the first starts `warm_up`
frames early from silence and discards that part: the filter forgets its start within that many frames (the
slowest pole's decay to below STATE_TOLERANCE), so every segment's energy is the one a single pass gives, to
float32 rounding (tests/test_editing_measure.py checks against scipy and libebur128).

Only whole segments go through here (measure.py measures at 48 kHz: 4800 frames each); measure.py filters a
partial last segment itself, and falls back to `scipy.signal.sosfilt` when numba is missing.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

LANES = 16  # filter chains stepped together: a constant, so the inner loops unroll into vector code
STATE_TOLERANCE = 1e-9  # how far a stretch's start may still remember its silent beginning


def warm_up_frames(sos: np.ndarray) -> int:
    """Frames after which the K-weighting filter's response to its starting state is below STATE_TOLERANCE."""
    poles = np.concatenate([np.roots(section[3:]) for section in sos])
    slowest = float(np.abs(poles).max())
    return int(math.ceil(math.log(STATE_TOLERANCE) / math.log(slowest)))


_usable: bool | None = None


def available() -> bool:
    """Whether the numba kernels can run here: numba installed and the kernels loadable (numba also refuses to
    load a cached kernel when it finds no writable cache folder). Otherwise the callers take the scipy / BLAS
    paths, slower but the same results."""
    global _usable
    if _usable is None:
        try:
            import core.editing._kernels  # noqa: F401
            _usable = True
        except Exception:  # noqa: BLE001 - ImportError, or numba's own errors (caching, an unsupported CPU)
            import logging

            logging.getLogger(__name__).warning("numba kernels unavailable; loudness and true peak use scipy/BLAS",
                                                exc_info=True)
            _usable = False
    return _usable


def whole_segment_energies(samples: np.ndarray, sos: np.ndarray, step: int, segments: int,
                           threads: int) -> np.ndarray:
    """(channels, segments) float64: the K-weighted (sos: two sections) sum of squares of each channel over
    frames [k * step, (k + 1) * step), for `segments` whole segments inside `samples` (frames, channels)."""
    from core.editing._kernels import energies  # numba: imported (and compiled or loaded) on first use
    frames, channels = samples.shape
    if channels > LANES or segments * step > frames:
        raise ValueError("whole_segment_energies: more channels than lanes, or segments past the end")
    x = np.ascontiguousarray(samples, dtype=np.float32)
    sos32 = np.ascontiguousarray(sos, dtype=np.float32)
    warm_segments = -(-warm_up_frames(sos) // step)
    # several stretches per lane only pay off when a lane's share is long next to its warm-up
    parts = max(1, min(threads, segments // (8 * (warm_segments + 1) * (LANES // channels))))
    bounds = np.linspace(0, segments, parts + 1).astype(np.int64)
    outs = [np.zeros((channels, segments), np.float64) for _ in range(parts)]

    def run(i: int) -> None:
        energies(x, sos32, step, int(bounds[i]), int(bounds[i + 1]), warm_segments, outs[i])

    if parts == 1:
        run(0)
    else:
        with ThreadPoolExecutor(parts) as pool:
            list(pool.map(run, range(parts)))
    return np.sum(outs, axis=0) if parts > 1 else outs[0]


def prepare_in_background() -> None:
    """Load (or, the very first time, compile) the kernel on a daemon thread, so the first Normalise loudness
    in the window does not wait a second for it. Errors are left for that first real call to report."""
    import threading

    def warm() -> None:
        try:
            from core.editing.measure import integrated_loudness, true_peak

            integrated_loudness(np.zeros((4800 * 8, 1), np.float32), 48000)
            true_peak(np.full((4800, 1), 0.5, np.float32))
        except Exception:  # noqa: BLE001 - only a warm-up
            pass

    threading.Thread(target=warm, name="loudness-kernel-warm-up", daemon=True).start()
