"""The editor's numba kernels: K-weighted segment energies for kweighted_lanes, and the 4x screen of
measure's true peak (where the 8x peak can be). Imported on first use: importing numba and loading the
compiled code from its on-disk cache takes about a second; the very first run compiles (a few seconds)."""

import numpy as np
from numba import njit

from core.editing.kweighted_lanes import LANES


@njit(fastmath=True, nogil=True, cache=True)
def filter_rows(buf, rows, sos, state, acc):
    # Both biquads (transposed direct form II) over `rows` rows of LANES chains; sum of squares into acc.
    b00, b01, b02, a01, a02 = sos[0, 0], sos[0, 1], sos[0, 2], sos[0, 4], sos[0, 5]
    b10, b11, b12, a11, a12 = sos[1, 0], sos[1, 1], sos[1, 2], sos[1, 4], sos[1, 5]
    z0, z1, z2, z3 = state[0], state[1], state[2], state[3]
    for t in range(rows):
        row = buf[t]
        for lane in range(LANES):
            x = row[lane]
            y = b00 * x + z0[lane]
            z0[lane] = b01 * x - a01 * y + z1[lane]
            z1[lane] = b02 * x - a02 * y
            w = b10 * y + z2[lane]
            z2[lane] = b11 * y - a11 * w + z3[lane]
            z3[lane] = b12 * y - a12 * w
            acc[lane] += w * w


@njit(nogil=True, cache=True)
def energies(x, sos, step, seg_lo, seg_hi, warm_segments, out):
    # out[c, k] += K-weighted energy of frames [k * step, (k + 1) * step) of channel c, for k in
    # [seg_lo, seg_hi), all inside x. Lane l filters channel l % channels, a stretch of whole segments.
    frames, channels = x.shape
    per_channel = LANES // channels
    per = (seg_hi - seg_lo + per_channel - 1) // per_channel
    first = np.full(LANES, -(1 << 40), np.int64)  # idle lanes read silence and store nothing
    chan = np.zeros(LANES, np.int64)
    for lane in range(per_channel * channels):
        chan[lane] = lane % channels
        first[lane] = seg_lo + (lane // channels) * per
    state = np.zeros((4, LANES), np.float32)
    acc = np.zeros(LANES, np.float32)
    buf = np.empty((step, LANES), np.float32)
    # a stretch that starts at the clip's start needs no warm-up: silence before it is the truth
    for s in range(-warm_segments, per):
        for lane in range(LANES):
            start = (first[lane] + s) * step
            c = chan[lane]
            if start >= 0 and start + step <= frames:
                for t in range(step):
                    buf[t, lane] = x[start + t, c]
            else:
                for t in range(step):
                    pos = start + t
                    buf[t, lane] = x[pos, c] if 0 <= pos < frames else np.float32(0.0)
            acc[lane] = 0.0
        filter_rows(buf, step, sos, state, acc)
        if s >= 0:
            for lane in range(LANES):
                k = first[lane] + s
                if seg_lo <= k < seg_hi and k < first[lane] + per:
                    out[chan[lane], k] += acc[lane]


SCREEN_GROUP = 16  # outputs computed together: a constant, so the loop over them unrolls into vector code


@njit(fastmath=True, nogil=True, cache=True)
def screen(x, blocks, block_frames, phases, positions, out):
    # out[b, j] = the largest |value| over the 4 phases and every channel of the 12-tap window starting at
    # blocks[b] * block_frames - 11 + j (x zero outside its frames), for j < positions (out holds whole groups).
    frames, channels = x.shape
    taps = phases.shape[1]
    width = out.shape[1]
    window = np.zeros(width + taps - 1, np.float32)
    acc = np.zeros((4, SCREEN_GROUP), np.float32)
    for b in range(blocks.shape[0]):
        lo = blocks[b] * block_frames - (taps - 1)
        for j in range(width):
            out[b, j] = 0.0
        for c in range(channels):
            for i in range(window.shape[0]):
                pos = lo + i
                window[i] = x[pos, c] if 0 <= pos < frames else np.float32(0.0)
            for j0 in range(0, width, SCREEN_GROUP):
                w = window[j0:j0 + SCREEN_GROUP + taps - 1]
                for p in range(4):
                    h = phases[p]
                    for j in range(SCREEN_GROUP):
                        acc[p, j] = (h[0] * w[j] + h[1] * w[j + 1] + h[2] * w[j + 2] + h[3] * w[j + 3]
                                     + h[4] * w[j + 4] + h[5] * w[j + 5] + h[6] * w[j + 6] + h[7] * w[j + 7]
                                     + h[8] * w[j + 8] + h[9] * w[j + 9] + h[10] * w[j + 10]
                                     + h[11] * w[j + 11])
                for j in range(SCREEN_GROUP):
                    a = max(max(abs(acc[0, j]), abs(acc[1, j])), max(abs(acc[2, j]), abs(acc[3, j])))
                    out[b, j0 + j] = max(out[b, j0 + j], a)
