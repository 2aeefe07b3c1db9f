"""Gain in dB, normalising to a peak in dBFS, and to an integrated loudness in LUFS (ITU-R BS.1770)."""

from __future__ import annotations

import numpy as np

from core.audio.clip import Clip
from core.audio.downmix import peak  # the largest magnitude; callers import it from here too
from core.editing.chunks import copy_frames, scale_frames
from core.editing.measure import integrated_loudness, peaks_over, true_peak, true_peak_over  # noqa: F401
from core.editing.selection import Change, EditResult, Selection, unchanged
from core.errors import InputError

DEFAULT_PEAK_DBFS = -1.0
DEFAULT_LUFS = -16.0  # podcast / streaming speech target
DEFAULT_TRUE_PEAK_DBTP = -1.0
# Headroom kept under a true-peak ceiling: other reconstructions read a little above measure's 8x one (on 37
# real recordings ffmpeg's ebur128=peak=true by up to 0.018 dB, sox's 8x `rate -v` by up to 0.009 dB).
TRUE_PEAK_MARGIN_DB = 0.05
SILENT_PEAK = 1e-6  # -120 dBFS: nothing to normalise


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    return float(20.0 * np.log10(max(gain, 1e-30)))


def _check_db(value, what: str, low: float, high: float) -> float:
    if not (isinstance(value, (int, float)) and np.isfinite(value) and low <= value <= high):
        raise InputError(f"{what} must be a number from {low:g} to {high:g}; got {value!r}.")
    return float(value)


def _scaled(clip: Clip, sel: Selection, factor: float, op: dict, note: str = "",
            peak_before: float | None = None) -> EditResult:
    # One pass over a long clip: copy the outside, scale the inside straight into the new array.
    factor = np.float32(factor)
    x, out = clip.samples, np.empty_like(clip.samples)
    copy_frames(out[:sel.start], x[:sel.start])
    copy_frames(out[sel.end:], x[sel.end:])
    scale_frames(out[sel.start:sel.end], x[sel.start:sel.end], factor)
    # Rounding is monotonic, so the scaled peak is the peak scaled: no second pass over a long clip.
    top = float(np.float32(peak(x[sel.start:sel.end]) if peak_before is None else peak_before) * factor)
    if top > 1.0 and not note:
        note = (f"The result peaks at {gain_to_db(top):+.1f} dBFS, above full scale: it is kept in float, but "
                "lower the gain or normalise before exporting to 16 or 24 bit.")
    return EditResult(Clip(out, clip.sample_rate), sel, note=note,
                      changed=Change(sel.start, sel.end, sel.end, scale=float(factor)),
                      operation=op | {"factor": float(factor)})


def gain(clip: Clip, selection: Selection, db: float) -> EditResult:
    """Multiply the selection (the whole clip when nothing is selected) by `db` decibels."""
    db = _check_db(db, "the gain in dB", -120.0, 60.0)
    sel = selection.or_whole(clip)
    return _scaled(clip, sel, db_to_gain(db), {"op": "gain", **sel.to_dict(), "db": db})


def normalize_peak(clip: Clip, selection: Selection, dbfs: float = DEFAULT_PEAK_DBFS) -> EditResult:
    """Scale the selection (the whole clip when nothing is selected) so its sample peak is `dbfs`."""
    dbfs = _check_db(dbfs, "the peak in dBFS", -60.0, 0.0)
    sel = selection.or_whole(clip)
    op = {"op": "normalize_peak", **sel.to_dict(), "dbfs": dbfs}
    current = peak(clip.samples[sel.start:sel.end])
    if current < SILENT_PEAK:
        return unchanged(clip, sel, "The selection is silent: there is nothing to normalise.", op)
    return _scaled(clip, sel, db_to_gain(dbfs) / current, op, peak_before=current)


def normalize_loudness(clip: Clip, selection: Selection, lufs: float = DEFAULT_LUFS,
                       true_peak_limit: float = DEFAULT_TRUE_PEAK_DBTP) -> EditResult:
    """Scale the selection (the whole clip when nothing is selected) to `lufs` integrated loudness.

    The gain is capped so the true peak (8x oversampled) stays TRUE_PEAK_MARGIN_DB below `true_peak_limit`
    dBTP: nothing clips, no other meter reads it above the limit, and the note says how loud the result
    actually is when the cap held it below the target.
    """
    lufs = _check_db(lufs, "the loudness in LUFS", -70.0, 0.0)
    true_peak_limit = _check_db(true_peak_limit, "the true-peak limit in dBTP", -20.0, 0.0)
    sel = selection.or_whole(clip)
    op = {"op": "normalize_loudness", **sel.to_dict(), "lufs": lufs, "true_peak_limit": true_peak_limit}
    region = clip.samples[sel.start:sel.end]
    silent = "The selection is silent (or below the loudness gate): nothing to normalise."
    measured = integrated_loudness(region, clip.sample_rate)
    if not np.isfinite(measured):
        return unchanged(clip, sel, silent, op)
    wanted_db = lufs - measured
    # The true peak matters only where the wanted gain would lift it over the limit: blocks that cannot get
    # there are not oversampled (measure.true_peak_over), and below it the gain is not capped. The sample
    # peak comes from the same pass.
    ceiling = true_peak_limit - TRUE_PEAK_MARGIN_DB
    sample_peak, tp = peaks_over(region, db_to_gain(ceiling - wanted_db))
    if sample_peak < SILENT_PEAK:
        return unchanged(clip, sel, silent, op)
    allowed_db = ceiling - gain_to_db(tp)
    note = ""
    if wanted_db > allowed_db:
        reached = measured + allowed_db
        note = (f"Loudness reached {reached:.1f} LUFS, not {lufs:g}: more gain would push the true peak above "
                f"{true_peak_limit:g} dBTP.")
    applied_db = min(wanted_db, allowed_db)
    return _scaled(clip, sel, db_to_gain(applied_db), op | {"measured_lufs": measured, "applied_db": applied_db},
                   note, peak_before=sample_peak)
