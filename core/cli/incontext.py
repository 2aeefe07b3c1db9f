"""`loa continue`, `loa inpaint`, `loa loop`: in-context edits of the user's own recordings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.audio.clip import SUBTYPES, load_clip
from core.audio.formats.kept import CONTAINER_EXTENSIONS, kept_format
from core.errors import InputError
from core.tempo.bars import MAX_BPM, MIN_BPM, check_bars, check_bpm

from .common import add_generation_flags, common_request_fields, make_engine, progress_printer, write_result

if TYPE_CHECKING:
    from core.incontext.regenerate import GenerationSettings


def register(subparsers) -> None:
    cont = subparsers.add_parser("continue", help="carry a recording on for N seconds",
                                 description="Continue a recording: the clip followed by generated seconds.")
    _common(cont)
    cont.add_argument("--seconds", type=float, required=True, help="seconds to add")
    cont.set_defaults(func=run_continue)

    inp = subparsers.add_parser("inpaint", help="regenerate a time range of a recording",
                                description="Regenerate [start, end) seconds; the rest is kept sample for sample.")
    _common(inp)
    inp.add_argument("--start", type=float, required=True, help="start of the range, seconds")
    inp.add_argument("--end", type=float, required=True, help="end of the range, seconds")
    inp.set_defaults(func=run_inpaint)

    loop = subparsers.add_parser("loop", help="extend a loop by bars, or close it",
                                 description="Extend a loop by whole bars (sample-accurate), or regenerate its "
                                             "end so that it flows into its start.")
    _common(loop)
    action = loop.add_mutually_exclusive_group(required=True)
    action.add_argument("--extend-bars", type=int, metavar="N", help="bars to add")
    action.add_argument("--close", action="store_true", help="regenerate the end so the loop closes")
    loop.add_argument("--bpm", type=float,
                      help=f"tempo for --extend-bars, {MIN_BPM:g}-{MAX_BPM:g} (default: estimated from the clip)")
    loop.add_argument("--beats-per-bar", type=int, default=4)
    loop.add_argument("--close-seconds", type=float, default=None,
                      help="length of the end to regenerate (default 1 s, or a quarter of a clip shorter than 4 s)")
    loop.set_defaults(func=run_loop)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="the recording (WAV, FLAC, OGG, ...)")
    parser.add_argument("--prompt", default="", help="optional description; empty lets the audio speak")
    parser.add_argument("--format", choices=sorted(CONTAINER_EXTENSIONS), default=None,
                        help="output container (default: the input's; WAV for a lossy input)")
    parser.add_argument("--subtype", choices=list(SUBTYPES), default=None,
                        help="output sample format (default: the input's, so kept samples read back equal)")
    add_generation_flags(parser, default_seconds=None)


def _load(path: Path):
    """The user's clip; NaN or infinite samples (repaired to silence by load_clip) are reported, since the
    output then differs from the file there."""
    clip = load_clip(path)
    if clip.repaired_samples:
        print(f"loa: note: {clip.repaired_samples} NaN or infinite samples in {path.name} were replaced by "
              "silence.", file=sys.stderr)
    return clip


def _settings(args: argparse.Namespace) -> GenerationSettings:
    from core.incontext.regenerate import GenerationSettings  # torch: imported when the command runs

    fields = common_request_fields(args)
    return GenerationSettings(prompt=args.prompt, **fields)


def _prepare(args: argparse.Namespace, operation: str):
    """Check everything about the output before the model loads: its format (the input's, see
    core.audio.formats.kept), its name and whether it may be written; return the engine."""
    plan = kept_format(args.input, args.output, args.format, args.subtype)
    engine = make_engine(args, inputs=[args.input])
    args.kept_format = plan
    args.default_name = Path(f"{args.input.stem}-{operation}{plan.extension}")  # in the current folder
    return engine


def _finish(args, result) -> int:
    if args.kept_format.note:  # said with the result, so an error is still the only line when there is one
        print(f"loa: note: {args.kept_format.note}", file=sys.stderr)
    for candidate in result.candidates:
        candidate.settings["source_file"] = args.input.name
    write_result(result, args, args.prompt or args.input.stem, default_name=args.default_name,
                 subtype=args.kept_format.subtype)
    return 0


def run_continue(args: argparse.Namespace) -> int:
    from core.generation import tasks

    clip = _load(args.input)
    settings = _settings(args)
    settings.request(args.seconds).validated()  # bad values exit 2 before the model loads
    engine = _prepare(args, "continued")
    result = tasks.run(engine, tasks.Continue(clip, args.seconds, settings), progress=progress_printer(args))
    return _finish(args, result)


def run_inpaint(args: argparse.Namespace) -> int:
    from core.generation import tasks
    from core.incontext import regenerate as incontext

    clip = _load(args.input)
    settings = _settings(args)
    incontext.check_range(clip, args.start, args.end)  # first: a nan range must be named as the range
    settings.request(max(args.end - args.start, 0.01)).validated()
    engine = _prepare(args, "inpainted")
    result = tasks.run(engine, tasks.Inpaint(clip, args.start, args.end, settings), progress=progress_printer(args))
    return _finish(args, result)


def run_loop(args: argparse.Namespace) -> int:
    from core.generation import tasks

    clip = _load(args.input)
    settings = _settings(args)
    settings.request(1.0).validated()
    if args.close and args.bpm is not None:
        raise InputError("--bpm sets the tempo for --extend-bars; --close keeps the loop's own length "
                         "(leave out --bpm).")
    if not args.close:  # bad bars or tempo exit 2 before the model loads
        check_bars(args.extend_bars, args.beats_per_bar)
        if args.bpm is not None:
            check_bpm(args.bpm)
    engine = _prepare(args, "closed" if args.close else f"plus{args.extend_bars}bars")
    if args.close:
        result = tasks.run(engine, tasks.CloseLoop(clip, args.close_seconds, settings=settings),
                           progress=progress_printer(args))
        return _finish(args, result)
    result = tasks.run(engine, tasks.ExtendLoop(clip, args.extend_bars, args.bpm, args.beats_per_bar,
                                                settings=settings), progress=progress_printer(args))
    return _finish(args, result)
