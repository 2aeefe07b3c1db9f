"""Silence the model libraries' chatter (load bars, deprecation notes) and the audio/MIDI libraries' probing noise
on the terminal, for end-user front ends."""

from __future__ import annotations

import importlib.abc
import logging
import os
import re
import sys
import tempfile
import threading
import warnings
from contextlib import contextmanager
from typing import Iterator


# The model libraries' logging modules; importing either imports torch (seconds), so a front end that may never load
# a model (`loa --help`, `loa edit`) quiets them when they are first imported instead of importing them to quiet them.
LIBRARY_LOGGING = ("diffusers.utils.logging", "transformers.utils.logging")


def quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\..*")
    pending = [name for name in LIBRARY_LOGGING if not _quiet_if_imported(name)]
    if pending and not any(isinstance(finder, _QuietWhenImported) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietWhenImported(pending))
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)


def _quiet_if_imported(name: str) -> bool:
    module = sys.modules.get(name)
    if module is None:
        return False
    _quiet(module)
    return True


def _quiet(logging_module) -> None:
    """diffusers' or transformers' logging module: errors only, no progress bars."""
    logging_module.set_verbosity_error()
    logging_module.disable_progress_bar()


class _QuietWhenImported(importlib.abc.MetaPathFinder):
    """Finds nothing itself: it hands the other finders' spec for a module of LIBRARY_LOGGING back with a loader that
    quiets the module right after it runs (so the rest of the library's import and every model load log errors only),
    then steps aside."""

    def __init__(self, names) -> None:
        self.names = set(names)

    def find_spec(self, name, path, target=None):
        if name not in self.names:
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None) if finder is not self else None
            spec = find_spec(name, path, target) if find_spec else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _ThenQuiet(spec.loader, self)
                return spec
        return None

    def done(self, name: str) -> None:
        self.names.discard(name)
        if not self.names and self in sys.meta_path:
            sys.meta_path.remove(self)


class _ThenQuiet:
    """The real loader, plus quieting after exec_module; every other attribute (get_source...) is the real one's."""

    def __init__(self, loader, finder: _QuietWhenImported) -> None:
        self._loader, self._finder = loader, finder

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        _quiet(module)
        self._finder.done(module.__name__)

    def __getattr__(self, name):
        return getattr(self._loader, name)


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
