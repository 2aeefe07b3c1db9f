"""`--bars N --bpm T [--beats-per-bar B] [--beat-unit U] [--loop-end fade|close-loop]`: bar-locked takes
(core.generation.bar_locked)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Optional

from core.audio.bars import BEAT_UNITS, ENDINGS, MAX_BPM, MIN_BPM
from core.errors import InputError

if TYPE_CHECKING:  # bar_locked imports the engine (torch); bar_lock() imports it when --bars is given
    from core.generation.bar_locked import BarLock


def add_bar_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("bars (music loops for a DAW)")
    g.add_argument("--bars", type=int, default=None,
                   help="length in bars instead of --seconds: the take is exactly N bars, sample exact")
    g.add_argument("--bpm", type=float, default=None,
                   help=f"tempo for --bars, {MIN_BPM:g}-{MAX_BPM:g} (the DAW's session tempo)")
    g.add_argument("--beats-per-bar", type=int, default=4, help="meter for --bars: beats per bar (default 4)")
    g.add_argument("--beat-unit", type=int, default=4, choices=BEAT_UNITS,
                   help="meter for --bars: the beat's note value, the meter's lower number (default 4; 8 for "
                        "7/8 or 6/8). --bpm counts quarter notes, as DAWs do")
    g.add_argument("--loop-end", choices=ENDINGS, default="fade",
                   help="how a --bars take ends: a 10 ms fade at the bar line, or a loop-closing pass "
                        "that leads the end back into the start (one more generation per take)")


def bar_lock(args: argparse.Namespace) -> Optional[BarLock]:
    """The validated BarLock for --bars, None without it; bad combinations exit 2 before the model loads."""
    if args.bars is None:
        if args.bpm is not None:
            raise InputError("--bpm sets the tempo for --bars; add --bars N (or leave out --bpm).")
        return None
    if args.bpm is None:
        raise InputError("--bars needs the tempo: add --bpm T (your DAW's session tempo).")
    from core.generation.bar_locked import BarLock

    return BarLock(args.bars, args.bpm, args.beats_per_bar, args.loop_end, args.beat_unit).validated()
