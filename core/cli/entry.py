"""The `loa` program's first code (the console script's entry point).

Ctrl+C is made quiet before anything heavy is imported: until the command itself starts there is nothing to lose,
so an interrupt ends at once with one line and exit 130 instead of a KeyboardInterrupt traceback from inside
torch's import. core.cli.main takes over the same handling, then hands Ctrl+C to the command's own cancellation.
(A signal during the Python interpreter's own start-up, before this module runs, is Python's to report.)
"""

import os
import signal
import sys


def stop_while_starting(signum, frame):
    os.write(2, b"loa: cancelled (nothing was started)\n")
    os._exit(130)


stop_while_starting.loa_startup = True
signal.signal(signal.SIGINT, stop_while_starting)

from core.cli.main import main as run_command  # noqa: E402 - after the handler, on purpose


def main(argv=None) -> int:
    """The console script: the command, then Ctrl+C ignored while the interpreter shuts down. A SIGINT that
    arrived during model loading was seen (in CI) to be raised again after the command had printed its one cancel
    line, ending the process by SIGINT instead of exit 130."""
    try:
        code = run_command(argv)
    except KeyboardInterrupt:  # an interrupt still pending once the command had reported it
        code = 130
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if code in (130, 143):
        # Interrupted: the command has said so in its one line and every file is whole or untouched. Leave now,
        # without the interpreter's shutdown (joining worker threads, library teardown), where CI still saw the
        # process end by SIGINT (exit -2) after the cancel line; a user who pressed Ctrl+C wants it to stop.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        os._exit(code)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
