"""Silence the model libraries' chatter (load bars, deprecation notes) and the audio/MIDI libraries' probing noise
on the terminal, for end-user front ends."""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import functools
import logging
import os
import platform
import re
import sys
import threading
import warnings
from typing import Optional

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

log = logging.getLogger(__name__)

# C callbacks: alsa-lib's snd_lib_error_handler_t is variadic (file, line, function, err, fmt, ...); the fixed
# arguments word the line. The first variadic argument is taken as a plain integer (never dereferenced unless the
# format says it is a string): on x86-64 and AArch64 Linux it arrives in the register after fmt, as a sixth fixed
# argument would. libjack's error and info functions take the message.
_ALSA_HANDLER_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                      ctypes.c_char_p, ctypes.c_void_p)
_FIRST_VARARG_READABLE = platform.system() == "Linux" and platform.machine() in ("x86_64", "AMD64", "aarch64")
XRUN_FORMAT = b"%s occurred"  # snd_pcm_recover's SNDERR("%s occurred", "underrun" / "overrun")
_xruns = {"underrun": 0, "overrun": 0}
_JACK_FUNCTION_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_char_p)
_native_lock = threading.Lock()
_handled: dict[str, ctypes.CDLL] = {}  # library path -> the library whose callbacks are ours
_restore_at_exit = False


def _alsa_message(file, line, function, err, fmt, first_arg) -> None:
    text = f"ALSA lib {_text(file)}:{line}:({_text(function)}) {_text(fmt)}"
    if fmt == XRUN_FORMAT:  # an output ran dry / an input overflowed: counted (alsa_xruns), never printed
        kind = ctypes.string_at(first_arg).decode(errors="replace") if _FIRST_VARARG_READABLE and first_arg else ""
        kind = kind if kind in _xruns else "underrun"
        _xruns[kind] += 1
        text = text.replace("%s", kind)
    log.debug("%s", text)  # alsa-lib's lines are probing for absent hardware (NATIVE_NOISE) or xruns (counted)


def alsa_xruns() -> dict[str, int]:
    """How many "underrun occurred" / "overrun occurred" lines alsa-lib has reported to our handler so far (through
    PulseAudio's ALSA plugin PortAudio often does not flag them itself); the benchmark's and tests' figure."""
    return dict(_xruns)


def _jack_message(message) -> None:
    """libjack's error and info lines: known probing noise goes to the debug log, anything else to stderr."""
    text = _text(message)
    if NATIVE_NOISE.match(text):
        log.debug("%s", text)
        return
    try:
        os.write(2, (text + "\n").encode(errors="replace"))
    except OSError:
        pass  # no terminal (a GUI launcher)


def _text(value) -> str:
    return value.decode(errors="replace") if value else ""


_ALSA_HANDLER = _ALSA_HANDLER_TYPE(_alsa_message)  # kept alive for as long as the libraries may call them
_JACK_FUNCTION = _JACK_FUNCTION_TYPE(_jack_message)


def quiet_native_libraries() -> None:
    """Route alsa-lib's and libjack's messages through their own error callbacks (snd_lib_error_set_handler,
    jack_set_error_function, jack_set_info_function) instead of the terminal: call before the first call into
    PortAudio or rtmidi that may probe (it loads the system libasound and libjack first, so PortAudio links to
    these very copies) and again after importing a module that brings its own libjack (python-rtmidi's wheel
    does). Cheap and idempotent; stderr itself is never redirected, so a crash report always reaches it."""
    global _restore_at_exit
    with _native_lock:
        for path, setters in _native_libraries():
            if path in _handled:
                continue
            try:
                library = ctypes.CDLL(path)
                for setter, callback in setters:
                    getattr(library, setter)(callback)
            except (OSError, AttributeError):
                continue  # not that library after all: leave it as it is
            _handled[path] = library
        if _handled and not _restore_at_exit:
            atexit.register(_restore_native_defaults)
            _restore_at_exit = True


_MAPPED_JACK = re.compile(r"(/\S*/libjack\S*)$", re.MULTILINE)


@functools.lru_cache(maxsize=None)
def _system_library(name: str) -> Optional[str]:
    """ctypes.util.find_library, once per process: it runs ldconfig (or a compiler) in a subprocess, and the MIDI
    rescans call this on the GUI thread (0.2-0.4 s stalls every few seconds in benchmarks/bench_gui_pause.py)."""
    return ctypes.util.find_library(name)


def _native_libraries() -> list[tuple[str, list]]:
    alsa = [("snd_lib_error_set_handler", _ALSA_HANDLER)]
    jack = [("jack_set_error_function", _JACK_FUNCTION), ("jack_set_info_function", _JACK_FUNCTION)]
    found = []
    for name, setters in (("asound", alsa), ("jack", jack)):
        path = _system_library(name)
        if path:
            found.append((path, setters))
    found += [(path, jack) for path in _bundled_libjacks() if os.path.basename(path).startswith("libjack")]
    return found


_maps_read: tuple[int, list[str]] = (-1, [])  # (len(sys.modules) when /proc/self/maps was read, its libjacks)


def _bundled_libjacks() -> list[str]:
    """The libjack copies mapped into this process (bundled in wheels: python-rtmidi's). /proc/self/maps is read
    again only after new modules were imported (a wheel's library comes with its module): this runs on the GUI
    thread at each MIDI rescan, and reading the maps of a process whose model threads map and unmap memory took
    0.2-0.4 s there (benchmarks/bench_gui_pause.py's stall watch)."""
    global _maps_read
    if _maps_read[0] != len(sys.modules):
        try:
            with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
                found = sorted(set(_MAPPED_JACK.findall(maps.read())))
        except OSError:
            found = []  # not Linux: the system library is the one
        _maps_read = (len(sys.modules), found)
    return _maps_read[1]


def _restore_native_defaults() -> None:
    """At exit, before the interpreter goes: the libraries' own printing again (NULL restores their default), so
    no late message from a library thread calls into a finished interpreter."""
    with _native_lock:
        for library in _handled.values():
            for setter in ("snd_lib_error_set_handler", "jack_set_error_function", "jack_set_info_function"):
                function = getattr(library, setter, None)
                if function is not None:
                    function(None)
        _handled.clear()
