"""Editing clips: pure operations, and an edit session with persisted multi-level undo/redo. No Qt.

Core API (all frame indices are at the clip's own rate; a Clip is core.audio.clip.Clip):

    from core.editing import Selection, EditSession, OPERATIONS, splice, fades, gain, convert

    Selection(start, end)            frames [start, end); start == end is a cursor. Selection.cursor(f),
                                     .whole(clip), .from_seconds(s, e, rate), .is_empty, .length
    snap_to_zero_crossings(clip, sel, max_seconds=0.01) -> Selection   (optional edge snapping)

    Every operation is a pure function  op(clip, selection, **params) -> EditResult
        EditResult.clip        the new clip (the input is never modified)
        EditResult.selection   the selection after the edit (cut/delete: cursor; paste: the pasted span)
        EditResult.note        '' or one line for the status bar (conversion done, clipped, nothing to do)
        EditResult.changed     None when nothing changed (then the history records nothing)
        EditResult.clipboard   cut/copy: the audio taken
    splice.cut / copy / delete(clip, sel, crossfade=0.01)   splice.trim(clip, sel)
    splice.paste(clip, sel, pasted_clip, crossfade=0.01)    converts rate (soxr) and channels, with a note
    splice.insert_silence(clip, sel, seconds)   splice.silence(clip, sel)
    fades.fade_in / fade_out(clip, sel, curve="linear"|"exponential"|"logarithmic"|"s-curve", seconds=None)
    gain.gain(clip, sel, db)   gain.normalize_peak(clip, sel, dbfs=-1)
    gain.normalize_loudness(clip, sel, lufs=-16, true_peak_limit=-1)   (BS.1770, true peak 8x)
    convert.reverse(clip, sel)   convert.resample_clip(clip, sel, rate)   convert.to_mono / to_stereo(clip, sel)
    Effects (fades, gain, normalise, reverse) act on the whole clip when the selection is empty;
    cut/copy/delete/trim/silence with an empty selection change nothing and say so in `note`.
    Joins made by cut/delete/paste/silence get a `crossfade`-second equal-power crossfade (0 = off).

    OPERATIONS: name -> (function, menu label); registry.label(record) names a history entry.

    session = EditSession.create(clip, name="take 3", source={"library_id": 7})   # under <data>/edits/
    session.apply("cut", Selection(a, b))          -> EditResult; session.clip/.selection follow
    session.apply("gain", sel, db=3.0); session.apply("paste", sel)   # paste uses session.clipboard
    session.commit(new_clip, sel, operation={"op": "transform", ...})  # results computed elsewhere
    session.undo() / session.redo() -> EditResult (the exact array of that version)
    session.can_undo, .can_redo, .history() -> [HistoryStep], .operations() (for provenance),
    session.has_unsaved_edits, .mark_saved(library_id), .close() (keeps history), .discard()
    session.flush() waits for the writer thread: an edit's blocks are written and fsynced, then its version
    row is committed (Audacity's order, core.editing.writer); a long clip's large new blocks (whole-clip fade,
    resample, mono/stereo) are written after `apply` returns, and a crash before they land loses only that edit
    session.join_crossfade = 0.005 (None: each operation's default); session.snap_zero_crossings = True
    EditSession.open(folder)  (InputError if another process has it open: an flock on <folder>/open.lock)
    recoverable_sessions() -> [SessionInfo] not closed and held by no running process (offer restore at start)
    session.abandon() lets go as a crash would; prune_closed_sessions(older_than_days=30, max_total_bytes=None)
    frees disk from closed sessions whose edits were saved, oldest first (never unsaved, open or crashed ones);
    prune_in_background() runs it at start-up with 30 days and a 4 GB cap

    Long clips: a 10-minute stereo clip is 230 MB; each edit of it takes about a tenth to a few tenths of a
    second (docs/edit.md, editing benchmark): still call `apply` from a worker thread (EditSession is thread-safe)
    and keep the GUI responsive.

    Library versions (the original is never overwritten):
    versions.save_as_version(session, library) -> LibraryItem   new item, parent_id + operations recorded
        (a session whose source has no library_id first stores the opened clip as an "import" item)
    Library.add_version(parent_id, clip, operations), Library.lineage(item_id) -> [item, parent, ...],
    Library.versions_of(item_id), LibraryItem.parent_id / .operations; versions.describe_lineage(...)

    Transform selection (audio-to-audio, needs the model; lives beside inpaint):
    core.incontext.transform.transform(engine, clip, strength, start_s, end_s, settings, progress, cancel)
        -> GenerationResult (candidates best first, each the whole clip, bit-exact outside [start, end));
    record the chosen one with session.commit(cand.clip, operation={"op": "transform", "strength": s, ...}).
"""

from core.editing import convert, fades, gain, splice, versions
from core.editing.history import EditSession
from core.editing.recovery import (
                                   SessionInfo,
                                   list_sessions,
                                   prune_closed_sessions,
                                   prune_in_background,
                                   recoverable_sessions,
                                   unsaved_sessions,
)
from core.editing.registry import OPERATIONS, label, operation
from core.editing.selection import Change, EditResult, Selection, nearest_zero_crossing, snap_to_zero_crossings
from core.editing.session_db import HistoryStep

__all__ = ["Change", "EditResult", "EditSession", "HistoryStep", "OPERATIONS", "Selection", "SessionInfo",
           "convert", "fades", "gain", "label", "list_sessions", "nearest_zero_crossing", "operation",
           "prune_closed_sessions", "prune_in_background", "recoverable_sessions", "snap_to_zero_crossings",
           "unsaved_sessions",
           "splice", "versions"]
