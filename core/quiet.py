"""Silence the model libraries' chatter (load bars, deprecation notes) and the audio/MIDI libraries' probing noise
on the terminal, for end-user front ends."""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
import warnings
from contextlib import contextmanager
from typing import Iterator


def quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\..*")
    try:
        import diffusers.utils.logging as dlog
        import transformers.utils.logging as tlog

        tlog.set_verbosity_error()
        tlog.disable_progress_bar()
        dlog.set_verbosity_error()
        dlog.disable_progress_bar()
    except ImportError:  # pragma: no cover - both are hard dependencies
        pass
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)


# What native audio/MIDI libraries print to the terminal while probing for systems that are absent: a JACK client
# finding no server, alsa-lib with no sound card or sequencer, PortAudio's ALSA host API probing devices. The window
# and the CLI report the same news as one status line of their own.
NATIVE_NOISE = re.compile(
    r"^(ALSA lib |Cannot connect to server|jack server is not running|JackShmReadWritePtr|"
    r"Jack(Client|Socket|Posix|Shm|Library)[A-Za-z]*::|Cannot open .*server|"
    r"Midi(In|Out)(Alsa|Jack)::|Expression '.*' failed in '.*pa_linux_alsa\.c')")

_native_lock = threading.RLock()
_native_depth = 0


@contextmanager
def filtered_native_stderr(noise: re.Pattern = NATIVE_NOISE) -> Iterator[None]:
    """Around a call into a native library that may print probing noise to file descriptor 2 (C's stderr): catch
    what it prints, then pass on every line that is not known noise, so real errors (Python's included, from any
    thread) still reach the terminal. Nests and is thread-safe: only the outermost block redirects."""
    global _native_depth
    with _native_lock:
        saved = caught = None
        if _native_depth == 0:
            saved, caught = _redirect_fd2()
        _native_depth += 1
        try:
            yield
        finally:
            _native_depth -= 1
            if saved is not None:
                _flush_stderr()
                os.dup2(saved, 2)
                os.close(saved)
                caught.seek(0)
                text = caught.read().decode(errors="replace")
                caught.close()
                kept = [line for line in text.splitlines(keepends=True) if not noise.match(line)]
                if kept:
                    os.write(2, "".join(kept).encode())


def _redirect_fd2():
    """(saved fd 2, temp file now on fd 2), or (None, None) where there is no stderr to redirect (a GUI launcher)."""
    try:
        _flush_stderr()
        saved = os.dup(2)
    except OSError:
        return None, None
    try:
        caught = tempfile.TemporaryFile()
        os.dup2(caught.fileno(), 2)
    except OSError:
        os.close(saved)
        return None, None
    return saved, caught


def _flush_stderr() -> None:
    if sys.stderr is not None:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
