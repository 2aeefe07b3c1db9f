"""Speech: text-to-speech with a described speaker, a voice from a reference recording, and script mode.

The names below load their module on first use (PEP 562), so `core.speech.defaults` (what `loa speak --help`
shows) and `core.speech.text` can be imported without torch; `from core.speech import speak` works as ever.
"""

from __future__ import annotations

import importlib

_HOMES = {"DEFAULT_VOICE": "defaults", "ReferenceVoice": "reference", "Script": "script", "ScriptLine": "script",
          "ScriptResult": "script", "parse_script": "script", "read_script": "script", "render_script": "script",
          "write_script": "script", "estimate_seconds": "text", "normalize_text": "text", "SpeechRequest": "tts",
          "speak": "tts"}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
