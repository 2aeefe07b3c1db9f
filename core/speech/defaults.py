"""Speech defaults that the CLI shows in --help, torch-free so that building the parser imports no model code
(core.speech.tts and core.speech.script re-export them)."""

DEFAULT_VOICE = "a clear voice speaking in a quiet studio"
DEFAULT_PAUSE_SECONDS = 0.6
