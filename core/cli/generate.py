"""`loa generate PROMPT`: text to sound effects or music."""

from __future__ import annotations

import argparse

from core.generation.requests import GenerationRequest

from .bars import add_bar_flags, bar_lock, check_bar_flags
from .common import add_generation_flags, common_request_fields, make_engine, progress_printer, write_result


def register(subparsers) -> None:
    p = subparsers.add_parser("generate", help="generate audio from a text prompt",
                              description="Generate sound effects or music from a text prompt.")
    p.add_argument("prompt", help='what to hear, e.g. "metal door slam in a large hall"')
    add_generation_flags(p, default_seconds=DEFAULT_SECONDS)
    add_bar_flags(p)
    p.set_defaults(func=run)


DEFAULT_SECONDS = 10.0


def run(args: argparse.Namespace) -> int:
    check_bar_flags(args)  # usage first: a conflict is exit 2 even when the model folder is missing too
    seconds = args.seconds if args.seconds is not None else DEFAULT_SECONDS
    request = GenerationRequest(prompt=args.prompt, seconds=seconds, **common_request_fields(args))
    request = request.validated()  # bad values exit 2 before the model loads
    lock = bar_lock(args)  # --bars: exactly N bars at --bpm (replaces --seconds)
    engine = make_engine(args)
    from core.generation import tasks

    result = tasks.run(engine, tasks.Generate(request, lock), progress=progress_printer(args))
    write_result(result, args, request.prompt)
    return 0
