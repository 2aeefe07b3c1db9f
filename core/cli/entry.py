"""The `loa` program's first code (the console script's entry point).

Ctrl+C is made quiet before anything heavy is imported: until the command itself starts there is nothing to lose,
so an interrupt ends at once with one line and exit 130 instead of a KeyboardInterrupt traceback from inside
torch's import. core.cli.main takes over the same handling, then hands Ctrl+C to the command's own cancellation.
(A signal during the Python interpreter's own start-up, before this module runs, is Python's to report.)
"""

import os
import signal


def stop_while_starting(signum, frame):
    os.write(2, b"loa: cancelled (nothing was started)\n")
    os._exit(130)


stop_while_starting.loa_startup = True
signal.signal(signal.SIGINT, stop_while_starting)

from core.cli.main import main  # noqa: E402 - after the handler, on purpose

if __name__ == "__main__":
    raise SystemExit(main())
