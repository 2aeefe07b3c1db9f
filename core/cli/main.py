"""Entry point of `loa`: parses arguments, dispatches, and turns errors into exit codes.

Exit codes: 0 ok, 2 bad input or usage, 3 model not available, 130 interrupted (143 terminated), 1 anything
else.
User errors print one line on stderr; a traceback appears only with --debug.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from typing import Optional, Sequence

from core import signals
from core.errors import Cancelled, LoaError

from .. import __version__

# Each module defines `register(subparsers)`; its parsers set `func(args) -> int`.
COMMAND_MODULES = ["generate", "models", "incontext", "speak", "transform", "batch", "edit"]


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the problem and where help is, not the whole usage."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="loa", description="LOA Studio: generate audio with AudioLDM 2.")
    parser.add_argument("--version", action="version", version=f"loa {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}").register(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command. Signals follow core.signals' policy when the entry point (core/cli/entry.py) installed it:
    a signal while starting ends at once; once the command runs, SIGINT arrives as KeyboardInterrupt and
    SIGTERM/SIGHUP as its subclass Terminated, reported here as one line with exit 130 / 143."""
    _closed_standard_streams_to_nothing()
    parser = build_parser()  # torch-free: each command imports the model libraries it needs when it runs
    from .edit_steps import attach_negative_values

    args = parser.parse_args(attach_negative_values(list(sys.argv[1:] if argv is None else argv)))
    from ..quiet import quiet_libraries

    if not args.debug:
        quiet_libraries()
    signals.running()
    from core.fileio import commit_count
    from core.stale_temps import sweep_app_folders

    sweep_app_folders()  # hidden temps a killed writer left in the app's own folders

    landed_before = commit_count()
    try:
        return int(args.func(args) or 0)
    except (KeyboardInterrupt, Cancelled) as exc:
        from core.fileio import cancel_report

        with contextlib.suppress(OSError):  # a SIGHUP'd terminal may refuse the line (EIO)
            print(f"loa: {cancel_report(since=landed_before)}", file=sys.stderr)
        return getattr(exc, "exit_code", 130)
    except LoaError as exc:
        if args.debug:
            raise
        print(f"loa: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, exit 1
        if args.debug:
            raise
        print(f"loa: error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
              "(run again with --debug for details)", file=sys.stderr)
        return 1


def _closed_standard_streams_to_nothing() -> None:
    """A closed stdin/stdout/stderr (`loa ... >&-`) is /dev/null: otherwise the next file opened (an output's
    temp file) would get descriptor 1, and anything printed would land in the user's audio."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            try:
                devnull = os.open(os.devnull, os.O_RDWR)
            except OSError:
                continue
            if devnull != fd:
                os.dup2(devnull, fd)
                os.close(devnull)
            if getattr(sys, name) is None:
                setattr(sys, name, open(fd, "r" if fd == 0 else "w", closefd=False))


if __name__ == "__main__":  # pragma: no cover - `python -m core.cli.main` is the `loa` script
    from core.cli.entry import main as entry_main

    sys.exit(entry_main())
