"""Speech: text-to-speech with a described speaker, a voice from a reference recording, and script mode."""

from .reference import ReferenceVoice
from .script import Script, ScriptLine, ScriptResult, parse_script, read_script, render_script, write_script
from .text import estimate_seconds, normalize_text
from .tts import DEFAULT_VOICE, SpeechRequest, speak

__all__ = ["DEFAULT_VOICE", "ReferenceVoice", "Script", "ScriptLine", "ScriptResult", "SpeechRequest",
           "estimate_seconds", "normalize_text", "parse_script", "read_script", "render_script", "speak",
           "write_script"]
