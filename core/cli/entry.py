"""The `loa` program's first code (the console script's entry point; `python -m core.cli.main` comes here too).

It installs the process's one signal policy (core.signals) before anything heavy is imported: until the command
itself starts there is nothing to lose, so Ctrl+C ends at once with one line and exit 130 (SIGTERM/SIGHUP: 143)
instead of a KeyboardInterrupt traceback from inside torch's import. core.cli.main then runs the command, where a
signal raises KeyboardInterrupt and becomes one line and exit 130 (143). (A signal during the Python interpreter's
own start-up, before this module runs, is Python's to report.)
"""

import os
import sys

from core import signals

signals.install("loa")

from core.cli.main import main as run_command  # noqa: E402 - after the handler, on purpose


def main(argv=None) -> int:
    """The console script: the command, then the exit. A signal once the command has returned ends the process
    at once (a hang in the interpreter's shutdown stays interruptible)."""
    try:
        try:
            code = run_command(argv)
        finally:
            signals.exiting()
    except KeyboardInterrupt as exc:  # a signal that arrived once the command had reported its interruption
        code = getattr(exc, "exit_code", 130)
    if code in (130, 143):
        # Interrupted: the command has said so in its one line and every file is whole or untouched. Leave now,
        # without the interpreter's shutdown (joining worker threads, library teardown), where CI saw the process
        # end by SIGINT (exit -2) after the cancel line; a user who pressed Ctrl+C wants it to stop.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        os._exit(code)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
