"""The process's one signal policy. Nothing else in core/ calls `signal.signal` (the window has its own SIGTERM
handling in studio/; core/ has no Qt).

The `loa` entry point (core/cli/entry.py) calls `install()` once, before anything heavy is imported. From then on
one handler serves SIGINT, SIGTERM and SIGHUP (a closed terminal counts as SIGTERM), and what it does depends on
where the command is:

- starting (imports, argument checks, torch's import inside `starting()`): nothing has started, so a signal ends
  the process at once with one line and exit 130 (SIGINT) or 143 (SIGTERM/SIGHUP), never a traceback from inside
  an import;
- running: SIGINT raises KeyboardInterrupt, SIGTERM/SIGHUP raise `Terminated` (a KeyboardInterrupt whose
  `exit_code` is 143); the CLI turns either into one line saying what was written, and that exit code;
- inside `stop_requests(request)` (`loa batch`): the first signal only calls `request(signum)` (the files in
  flight finish, nothing new starts); a second one raises as above;
- inside `deferred()`, the one critical section (the renames that commit a file set; libsndfile's encoding, whose
  callbacks would swallow an exception): signals are held and acted on when it ends, or at its `deliver()`;
- exiting (`exiting()`, once the command has returned): a signal ends the process at once (exit 130/143), so a
  hang in the interpreter's shutdown stays interruptible.

Without `install()` (the window, a library caller, tests calling the CLI in-process) the process's own handlers
stay; only `deferred()` holds SIGINT/SIGTERM/SIGHUP for its block and then hands them to those handlers.

Python runs signal handlers in the main thread whichever thread the OS delivered the signal to, so the state here
is the main thread's; `deferred()` in another thread holds nothing (signals never raise there).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Callable, Iterator, Optional

HANDLED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
STARTING, RUNNING, EXITING = "starting", "running", "exiting"


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP while a command runs: the same path as Ctrl+C, exit code 143."""

    exit_code = 143


_phase: Optional[str] = None  # None: not installed (the process keeps its own handlers)
_prog = "loa"
_depth = 0  # nesting of deferred() blocks
_pending: list[int] = []  # signals held by deferred()
_previous: dict[int, object] = {}  # the host's handlers, while a deferred() block holds them (not installed)
_request: Optional[Callable[[int], None]] = None  # stop_requests' first-signal callback
_requested = False


def exit_code(signum: int) -> int:
    return 130 if signum == signal.SIGINT else 143


def install(prog: str = "loa") -> None:
    """The entry point's one call: this module's handler for SIGINT, SIGTERM and SIGHUP, in the starting phase."""
    global _phase, _prog
    _prog = prog
    for signum in HANDLED:
        signal.signal(signum, _handler)
    _phase = STARTING


def installed() -> bool:
    return _phase is not None


def running() -> None:
    """The command has started: from now on a signal raises (KeyboardInterrupt / Terminated)."""
    _set_phase(RUNNING)


def exiting() -> None:
    """The command has returned: from now on a signal ends the process at once."""
    _set_phase(EXITING)


@contextlib.contextmanager
def starting() -> Iterator[None]:
    """Back to the starting phase for a block with nothing to lose (torch's import): a signal ends at once, with
    one line. A KeyboardInterrupt raised inside torch's import was seen to end the process by SIGINT (exit -2)."""
    before = _phase
    _set_phase(STARTING)
    try:
        yield
    finally:
        _set_phase(before)


@contextlib.contextmanager
def stop_requests(request: Callable[[int], None]) -> Iterator[None]:
    """Two stages for work that can stop cleanly (`loa batch`): the first signal calls `request(signum)`, the
    second raises. Without `install()` signals act as the process's own handlers say."""
    global _request, _requested
    _request, _requested = request, False
    try:
        yield
    finally:
        _request, _requested = None, False


@contextlib.contextmanager
def deferred() -> Iterator[Callable[[], None]]:
    """The one critical section: hold SIGINT/SIGTERM/SIGHUP; yield `deliver()`, which acts on any held signal now
    (still holding new ones); the block's end acts on what is still held, as if it came right after."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    hosted = _phase is None and _depth == 0
    if hosted:  # not installed: hold the host's signals with this module's handler for the block
        for signum in HANDLED:
            with contextlib.suppress(ValueError, OSError):
                _previous[signum] = signal.signal(signum, _handler)
    _depth += 1
    try:
        yield _deliver
    finally:
        _depth -= 1
        if hosted:
            for signum, handler in list(_previous.items()):
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        if _depth == 0:
            try:
                _deliver()
            finally:
                if hosted:
                    _previous.clear()


def _deliver() -> None:
    held = list(dict.fromkeys(_pending))
    _pending.clear()
    for signum in held:
        _act(signum)


def _set_phase(phase: Optional[str]) -> None:
    global _phase
    if _phase is not None and phase is not None:
        _phase = phase


def _handler(signum, frame) -> None:
    if _depth:
        _pending.append(signum)
        return
    _act(signum)


def _act(signum: int) -> None:
    global _requested
    if _phase is None:  # a host process: its own handler, as if the signal came now
        handler = _previous.get(signum)
        if callable(handler):
            handler(signum, None)
        elif handler in (signal.SIG_DFL, None):
            if signal.getsignal(signum) is _handler:
                _pending.append(signum)  # still held (a deliver() inside the block): the default action at its end
            else:
                os.kill(os.getpid(), signum)
        return
    if _phase in (STARTING, EXITING):
        stop(signum)
    if _request is not None and not _requested:
        _requested = True
        _request(signum)
        return
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated("terminated")


def stop(signum: int) -> None:
    """End the process now: one line (nothing was started, or the command had already finished), exit 130/143."""
    if _phase == EXITING:
        line = f"{_prog}: stopped while exiting; the command had already finished.\n"
    else:
        line = f"{_prog}: cancelled (nothing was started)\n"
    with contextlib.suppress(OSError):
        os.write(2, line.encode())
    os._exit(exit_code(signum))
