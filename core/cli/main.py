"""Entry point of `loa`: parses arguments, dispatches, and turns errors into exit codes.

Exit codes: 0 ok, 2 bad input or usage, 3 model not available, 1 anything else.
User errors print one line on stderr; a traceback appears only with --debug.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

from .. import __version__
from core.errors import Cancelled, LoaError

# Each module defines `register(subparsers)`; its parsers set `func(args) -> int`.
COMMAND_MODULES = ["generate", "models", "incontext", "speak", "transform"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loa", description="LOA Studio: generate audio with AudioLDM 2.")
    parser.add_argument("--version", action="version", version=f"loa {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}").register(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from ..quiet import quiet_libraries

        if not args.debug:
            quiet_libraries()
        return int(args.func(args) or 0)
    except (KeyboardInterrupt, Cancelled):
        print("loa: cancelled", file=sys.stderr)
        return 130
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
