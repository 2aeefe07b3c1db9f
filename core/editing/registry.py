"""The editing operations by name, with the labels menus and the undo history show."""

from __future__ import annotations

from typing import Callable

from core.editing import convert, fades, gain, splice
from core.errors import InputError

# name -> (function(clip, selection, **params) -> EditResult, label)
OPERATIONS: dict[str, tuple[Callable, str]] = {
    "cut": (splice.cut, "Cut"),
    "copy": (splice.copy, "Copy"),
    "paste": (splice.paste, "Paste"),
    "delete": (splice.delete, "Delete"),
    "trim": (splice.trim, "Trim to selection"),
    "insert_silence": (splice.insert_silence, "Insert silence"),
    "silence": (splice.silence, "Silence selection"),
    "fade_in": (fades.fade_in, "Fade in"),
    "fade_out": (fades.fade_out, "Fade out"),
    "gain": (gain.gain, "Gain"),
    "normalize_peak": (gain.normalize_peak, "Normalise peak"),
    "normalize_loudness": (gain.normalize_loudness, "Normalise loudness"),
    "reverse": (convert.reverse, "Reverse"),
    "resample": (convert.resample_clip, "Resample"),
    "to_mono": (convert.to_mono, "Make mono"),
    "to_stereo": (convert.to_stereo, "Make stereo"),
}


# Edits computed outside this package and recorded with EditSession.commit(operation={"op": ...}).
EXTERNAL_LABELS = {"transform": "Transform selection", "inpaint": "Regenerate selection", "continue": "Continue",
                   "extend_loop": "Extend loop", "close_loop": "Close loop", "punch_in": "Punch-in recording",
                   "record": "Recording", "open": "Open", "edit": "Edit"}

# Operations that join audio and take a `crossfade` (seconds) parameter.
JOINING = {"cut", "paste", "delete", "insert_silence", "silence"}


def operation(name: str) -> Callable:
    try:
        return OPERATIONS[name][0]
    except KeyError:
        raise InputError(f"unknown edit {name!r}; use one of {', '.join(OPERATIONS)}.") from None


def label(record: dict) -> str:
    """A short human description of an operation record, e.g. 'Gain +3.0 dB' or 'Fade in (s-curve)'."""
    name = record.get("op", "")
    if record.get("label"):
        text = str(record["label"])
    elif name in OPERATIONS:
        text = OPERATIONS[name][1]
    else:
        text = EXTERNAL_LABELS.get(name, name or "Edit")
    if name == "gain":
        text += f" {record.get('db', 0):+.1f} dB"
    elif name == "normalize_peak":
        text += f" to {record.get('dbfs', 0):g} dBFS"
    elif name == "normalize_loudness":
        text += f" to {record.get('lufs', 0):g} LUFS"
    elif name in ("fade_in", "fade_out"):
        text += f" ({record.get('curve', 'linear')})"
    elif name == "resample":
        text += f" to {record.get('rate')} Hz"
    elif name == "insert_silence":
        text += f" ({record.get('seconds', 0):g} s)"
    elif name == "transform" and "strength" in record:
        text += f" ({record['strength']:g})"
    return text
