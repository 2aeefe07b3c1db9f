"""Closing a PortAudio stream without trusting the driver to return.

A sound server killed mid-stream (PulseAudio restarting, a USB interface pulled) can leave the host API's abort or
close blocked for good: ALSA plugins that wait on a server that is gone are a known class of hangs. The callers
are the GUI thread's timers and a recorder that must report its fault, so they wait at most `wait` seconds; a
close that has not returned by then goes on on its own daemon thread, and PortAudio is not terminated at exit
(its terminate would wait for that stream too, hanging the app on quit; the process ending frees it anyway).

    from core.devices.stream_close import close_stream

    if not close_stream(stream):   # False: the driver hung; the caller goes on without it
        ...
"""

from __future__ import annotations

import atexit
import sys
import threading

CLOSE_WAIT_SECONDS = 2.0

_hung_closes: list[threading.Thread] = []


def close_stream(stream, wait: float = CLOSE_WAIT_SECONDS) -> bool:
    """Abort and close a PortAudio stream (None is fine); True once it closed, False when the driver did not
    return within `wait` seconds (it is left to finish on a daemon thread). Errors are ignored: a vanished device
    must not break a stop()."""
    if stream is None:
        return True
    closed = threading.Event()

    def abort_and_close() -> None:
        try:
            _abort_and_close(stream)
        finally:
            closed.set()

    worker = threading.Thread(target=abort_and_close, name="loa-stream-close", daemon=True)
    worker.start()
    if closed.wait(wait):
        return True
    if not _hung_closes:
        # Registered after sounddevice's own exit handler, so it runs first (atexit is last-in, first-out).
        atexit.register(_skip_portaudio_terminate)
    _hung_closes.append(worker)
    return False


def hung_closes() -> int:
    """How many closes are still stuck in the driver (for status and tests)."""
    return sum(worker.is_alive() for worker in _hung_closes)


def _abort_and_close(stream) -> None:
    # PortAudio closes only a stopped stream: one still active after its abort is stopped, then closed.
    try:
        stream.abort(ignore_errors=True)
        if stream.active:
            stream.stop(ignore_errors=True)
        stream.close(ignore_errors=True)
    except Exception:  # noqa: BLE001 - PortAudio errors vary by host API
        pass


def _skip_portaudio_terminate() -> None:
    """At exit with a close still hung: Pa_Terminate would close that stream again and wait forever."""
    if not hung_closes():
        return
    sd = sys.modules.get("sounddevice")
    if sd is not None and hasattr(sd, "_initialized"):
        sd._last_callback = None  # sounddevice's handler would stop() and close() it first
        sd._initialized = 0
