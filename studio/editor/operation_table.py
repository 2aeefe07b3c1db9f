"""The edit operations the window offers: label, shortcut, the core.editing function, and how to ask for parameters.

Everything that computes lives in core.editing; this table only says how the window presents it, so the Edit menu,
the toolbar, the shortcuts and Help > Keyboard shortcuts are all built from one list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from studio.editor import dialogs

FADE_SHAPES = (("Linear", "linear"), ("Exponential", "exponential"), ("Logarithmic", "logarithmic"),
               ("S-curve", "s-curve"))


@dataclass(frozen=True)
class EditOperation:
    key: str                       # action object name: "edit.cut"
    label: str
    op: str                        # the core.editing.OPERATIONS name EditSession.apply runs
    shortcut: str = ""
    needs_selection: bool = False  # refused without a selection (cut, copy, trim...)
    dialog: Optional[Callable] = None  # (parent, clip) -> ParameterDialog, for operations with parameters
    params: Optional[dict] = None  # fixed parameters (the fade shape of a menu entry)
    toolbar: str = ""              # the toolbar's short text ("" = menu only)
    tip: str = ""


def _fades(direction: str) -> list[EditOperation]:
    return [EditOperation(f"edit.fade_{direction}.{shape}", f"Fade {direction} ({label.lower()})", f"fade_{direction}",
                          params={"curve": shape}, toolbar=f"Fade {direction}" if shape == "linear" else "",
                          tip=f"Fade {direction} over the selection ({label.lower()} curve)")
            for label, shape in FADE_SHAPES]


CLIPBOARD = [
    EditOperation("edit.cut", "Cu&t", "cut", "Ctrl+X", needs_selection=True, toolbar="Cut"),
    EditOperation("edit.copy", "&Copy", "copy", "Ctrl+C", needs_selection=True, toolbar="Copy"),
    EditOperation("edit.paste", "&Paste", "paste", "Ctrl+V", toolbar="Paste",
                  tip="Paste at the cursor, or over the selection"),
    EditOperation("edit.delete", "&Delete", "delete", "Delete", needs_selection=True, toolbar="Delete"),
]
RANGE = [
    EditOperation("edit.trim", "&Trim to selection", "trim", "Ctrl+T", needs_selection=True, toolbar="Trim",
                  tip="Keep only the selection"),
    EditOperation("edit.silence", "&Silence selection", "silence", "Ctrl+L", needs_selection=True,
                  toolbar="Silence"),
    EditOperation("edit.insert_silence", "&Insert silence…", "insert_silence",
                  dialog=lambda parent, clip: dialogs.insert_silence_dialog(parent)),
]
FADES = _fades("in") + _fades("out")
LEVELS = [
    EditOperation("edit.gain", "&Gain…", "gain", dialog=lambda p, c: dialogs.gain_dialog(p), toolbar="Gain"),
    EditOperation("edit.normalize_peak", "&Normalise peak…", "normalize_peak",
                  dialog=lambda p, c: dialogs.normalize_peak_dialog(p), toolbar="Normalise"),
    EditOperation("edit.normalize_loudness", "Normalise &loudness (LUFS)…", "normalize_loudness",
                  dialog=lambda p, c: dialogs.normalize_loudness_dialog(p), toolbar="LUFS"),
]
CONVERT = [
    EditOperation("edit.reverse", "&Reverse", "reverse", toolbar="Reverse"),
    EditOperation("edit.resample", "Re&sample…", "resample",
                  dialog=lambda p, c: dialogs.resample_dialog(p, c.sample_rate)),
    EditOperation("edit.to_mono", "Make &mono", "to_mono"),
    EditOperation("edit.to_stereo", "Make st&ereo", "to_stereo"),
]
GROUPS = (CLIPBOARD, RANGE, FADES, LEVELS, CONVERT)
OPERATIONS: dict[str, EditOperation] = {op.key: op for group in GROUPS for op in group}
