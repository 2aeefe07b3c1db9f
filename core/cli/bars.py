"""`--bars N --bpm T [--beats-per-bar B] [--beat-unit U] [--loop-end fade|close-loop]`: bar-locked takes
(core.generation.bar_locked)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Optional

from core.errors import InputError
from core.tempo.bars import BEAT_UNITS, ENDINGS, MAX_BPM, MIN_BPM

if TYPE_CHECKING:  # bar_locked imports the engine (torch); bar_lock() imports it when --bars is given
    from core.generation.bar_locked import BarLock


def add_bar_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("bars (music loops for a DAW)")
    g.add_argument("--bars", type=int, default=None,
                   help="length in bars instead of --seconds: the take is exactly N bars, sample exact")
    g.add_argument("--bpm", type=float, default=None,
                   help=f"tempo for --bars, {MIN_BPM:g}-{MAX_BPM:g} (the DAW's session tempo)")
    g.add_argument("--beats-per-bar", type=int, default=None, help="meter for --bars: beats per bar (default 4)")
    g.add_argument("--beat-unit", type=int, default=None, choices=BEAT_UNITS,
                   help="meter for --bars: the beat's note value, the meter's lower number (default 4; 8 for "
                        "7/8 or 6/8). --bpm counts quarter notes, as DAWs do")
    g.add_argument("--loop-end", choices=ENDINGS, default=None,
                   help="how a --bars take ends: a 10 ms fade at the bar line (default), or a loop-closing pass "
                        "that leads the end back into the start (one more generation per take)")
    parser.set_defaults(seconds=None)  # given or not: --bars replaces it, so an explicit --seconds is refused


def check_bar_flags(args: argparse.Namespace) -> None:
    """Flags that do not go together, refused (exit 2) before anything else is looked at, the model folder
    included: --bars with --seconds, and the --bars flags without --bars."""
    if args.bars is None:
        lonely = [flag for flag, value in (("--bpm", args.bpm), ("--beats-per-bar", args.beats_per_bar),
                                           ("--beat-unit", args.beat_unit), ("--loop-end", args.loop_end))
                  if value is not None]
        if lonely:
            raise InputError(f"{' and '.join(lonely)} {'go' if len(lonely) > 1 else 'goes'} with --bars N (a take "
                             f"of whole bars); add --bars N, or leave out {' and '.join(lonely)}.")
        return
    if args.seconds is not None:
        raise InputError("--bars sets the length in bars (at --bpm), so --seconds cannot set it too; give one of "
                         "them.")
    if args.bpm is None:
        raise InputError("--bars needs the tempo: add --bpm T (your DAW's session tempo).")


def bar_lock(args: argparse.Namespace) -> Optional[BarLock]:
    """The validated BarLock for --bars, None without it; bad combinations exit 2 before the model loads."""
    check_bar_flags(args)
    if args.bars is None:
        return None
    from core.generation.bar_locked import BarLock

    return BarLock(args.bars, args.bpm, args.beats_per_bar or 4, args.loop_end or "fade",
                   args.beat_unit or 4).validated()
