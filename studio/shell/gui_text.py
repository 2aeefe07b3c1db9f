"""Core messages speak to the command line ("pass --model /path", "use --device cpu"); in the window the same
advice names the window's own controls. Every message the window shows goes through `for_the_window`."""

from __future__ import annotations

import re

# (pattern, replacement), applied in order; the specific phrasings first, bare flags last.
_REWRITES = (
    (r"Download it once with `loa models download [^`]+`( \([^)]*\))?, or pass --model /path/to/folder holding a "
     r"copy in the diffusers layout\.",
     r"Download it in Models…\1, or add a local model folder there (Models… > Add local folder)."),
    (r"copy the model folder here and pass --model /path/to/folder\.",
     "copy the model folder here and add it in Models… > Add local folder."),
    (r"Point --model at the folder that holds model_index\.json\.",
     "Add the folder that holds model_index.json in Models… > Add local folder."),
    (r"run `loa models download [^`]+` again", "start the download again in Models…"),
    (r"\(`loa models list`\)", "(Models… lists them)"),
    (r"`loa models download [^`]+`", "Models… > Download"),
    (r"use --device cpu or auto\.", "choose cpu or auto in Settings > Compute device."),
    (r" with --model\.", " (pick it in the model picker; Models… downloads it)."),
    (r"--model /\S+", "a model folder added in Models…"),
    (r"--model", "the model picker"),
    (r"--device \w+", "Settings > Compute device"),
    (r"--device", "Settings > Compute device"),
    (r"then re-scan devices\.", "then choose Settings > Re-scan audio devices."),
)


def for_the_window(message: str) -> str:
    for pattern, replacement in _REWRITES:
        message = re.sub(pattern, replacement, message)
    return message


_LONG_WORD = re.compile(r"\S{25,}")
_BREAK_AFTER = re.compile(r"([/\\_.\-])")
ZERO_WIDTH_SPACE = "\u200b"


def wrappable(text: str) -> str:
    """Long unbroken words (paths, file names) get line-break chances after / _ . - so a word-wrapped label
    wraps them instead of widening the window; nothing visible is added (a zero-width space)."""
    return _LONG_WORD.sub(lambda m: _BREAK_AFTER.sub(r"\1" + ZERO_WIDTH_SPACE, m.group(0)), text)
