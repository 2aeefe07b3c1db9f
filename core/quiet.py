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

# Read by diffusers, transformers and huggingface_hub when they are first imported (importing them imports torch,
# seconds, so a front end that may never load a model sets these instead of importing them to quiet them).
QUIET_ENVIRONMENT = {"TOKENIZERS_PARALLELISM": "false", "DIFFUSERS_VERBOSITY": "error",
                     "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
_quiet_requested = False


def quiet_libraries() -> None:
    """For a front end (the window; the CLI unless --debug): the model libraries log errors only and show no load
    bars. Sets their environment defaults now; `quiet_model_libraries`, called where a pipeline is loaded, sets
    their verbosity too (for libraries imported before this call) and ignores their own deprecation notes."""
    global _quiet_requested
    _quiet_requested = True
    for key, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)


def quiet_model_libraries() -> None:
    """Where a pipeline is loaded (diffusers and transformers are imported by then): when a front end asked for
    quiet, errors only, no progress bars, and the FutureWarnings and UserWarnings that diffusers, transformers and
    torch address to developers are ignored (only theirs: the application's own warnings still show)."""
    if not _quiet_requested:
        return
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    for library in (diffusers_logging, transformers_logging):
        library.set_verbosity_error()
        library.disable_progress_bar()
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(diffusers|transformers|torch)(\..*)?$")
    warnings.filterwarnings("ignore", category=UserWarning, module=r"torch(\..*)?$")


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
