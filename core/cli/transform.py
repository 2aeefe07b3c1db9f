"""`loa transform`: audio-to-audio — a recording (or a range of it) re-imagined toward a prompt, timing kept."""

from __future__ import annotations

import argparse

from core.incontext.defaults import DEFAULT_STRENGTH

from .common import progress_printer
from .incontext import _common, _finish, _load, _prepare, _settings


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "transform", help="turn a recording toward a prompt, keeping its timing",
        description="Noise the audio's latent to --strength and denoise it toward --prompt: 0 keeps the input, "
                    "1 regenerates it. Samples outside [--start, --end) are kept bit for bit.")
    _common(parser)
    parser.add_argument("--strength", type=float, default=DEFAULT_STRENGTH,
                        help=f"0 (unchanged) .. 1 (regenerated), default {DEFAULT_STRENGTH}")
    parser.add_argument("--start", type=float, default=0.0, help="start of the range, seconds (default 0)")
    parser.add_argument("--end", type=float, default=None, help="end of the range, seconds (default: the end)")
    parser.set_defaults(func=run_transform)


def run_transform(args: argparse.Namespace) -> int:
    from core.incontext import transform as transforming

    clip = _load(args.input)
    end = clip.seconds if args.end is None else args.end
    settings = _settings(args)
    transforming.check_transform(clip, args.start, end, args.strength)  # bad values exit 2 before the model loads
    settings.request(max(end - args.start, 0.01)).validated()
    engine = _prepare(args, "transformed")  # output checked (never the input) before the model loads
    from core.generation import tasks

    result = tasks.run(engine, tasks.Transform(clip, args.strength, args.start, end, settings),
                       progress=progress_printer(args))
    return _finish(args, result)
