"""The operation flags of `loa edit` (--trim 1.5:8, --gain -3, --fade-out 1:s-curve, ...), kept in command-line order,
and how each one runs as a core.editing operation on the audio as it is at that step.

Times are seconds. A range is `A:B`; `A:` or `A:end` runs to the end, `:B` starts at 0. Ranges are read against the
audio at that step (after an earlier --trim or --delete, 0 is the new start) and turned into frames with
`Selection.from_seconds`, as the window's selection is.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from core.audio.clip import MAX_CLIP_BYTES, Clip
from core.editing import Selection, operation
from core.editing.fades import CURVES
from core.editing.selection import EditResult
from core.errors import InputError

MAX_SILENCE_SECONDS = 24 * 3600  # more never fits in memory (MAX_CLIP_BYTES is 18 hours of 8 kHz mono)
RANGE_HELP = "A:B in seconds (A: or A:end to the end, :B from the start)"


@dataclass(frozen=True)
class Step:
    """One operation flag as given: `flag` and `text` for messages, `name` of the core.editing operation."""

    flag: str
    text: str
    name: str
    value: Any = None

    def describe(self) -> str:
        return f"{self.flag} {self.text}".rstrip()


def _seconds(text: str, what: str = "a time") -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what} in seconds (e.g. 1.5)") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: {what} must be 0 s or later")
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of dB (e.g. -3)") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def time_range(text: str) -> tuple[float, Optional[float]]:
    """'1.5:8' -> (1.5, 8.0); '1.5:' and '1.5:end' -> (1.5, None); ':8' -> (0.0, 8.0)."""
    if text.count(":") != 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a range; write {RANGE_HELP}, e.g. 1.5:8")
    first, last = (part.strip() for part in text.split(":"))
    if first.startswith("-") or last.startswith("-"):
        raise argparse.ArgumentTypeError(f"{text!r}: a range is START:END in seconds from the clip's start, both 0 "
                                         "or later (e.g. 0:2; 1.5: or 1.5:end runs to the end)")
    start = _seconds(first, "the start") if first else 0.0
    end = None if last in ("", "end") else _seconds(last, "the end")
    if end is not None and end <= start:
        raise argparse.ArgumentTypeError(f"{text!r} is empty or backwards; the end must come after the start")
    return start, end


def _insert_point(text: str) -> tuple[Optional[float], float]:
    """'AT:SECONDS' ('end:2' appends)."""
    if text.count(":") != 1:
        raise argparse.ArgumentTypeError(f"{text!r}: write AT:SECONDS, e.g. 0:1.5 (1.5 s of silence at the start)")
    at, length = (part.strip() for part in text.split(":"))
    seconds = _seconds(length, "the silence's length")
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the silence must last more than 0 s")
    if seconds > MAX_SILENCE_SECONDS:
        raise argparse.ArgumentTypeError(f"{text!r}: the silence can last at most {MAX_SILENCE_SECONDS // 3600} "
                                         "hours")
    return (None if at == "end" else _seconds(at, "the insert point")), seconds


def _fade(text: str) -> tuple[float, str]:
    """'SECONDS[:CURVE]'."""
    length, _, curve = text.partition(":")
    seconds = _seconds(length, "the fade's length")
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: the fade must last more than 0 s")
    curve = curve.strip() or "linear"
    if curve not in CURVES:
        raise argparse.ArgumentTypeError(f"{text!r}: unknown fade curve {curve!r}; use one of {', '.join(CURVES)}")
    return seconds, curve


def _rate(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a sample rate in Hz (e.g. 44100)") from None


# flag -> (core.editing operation, parser of its value or None for a switch, metavar, help)
FLAGS = {
    "--trim": ("trim", time_range, "A:B", "keep only A..B"),
    "--delete": ("delete", time_range, "A:B", "remove A..B (the join gets --crossfade)"),
    "--silence": ("silence", time_range, "A:B", "replace A..B by silence, keeping the length"),
    "--insert-silence": ("insert_silence", _insert_point, "AT:SECONDS", "insert SECONDS of silence at AT (end: at "
                                                                        "the end)"),
    "--fade-in": ("fade_in", _fade, "SECONDS[:CURVE]", f"fade in over the first SECONDS; CURVE: {', '.join(CURVES)}"),
    "--fade-out": ("fade_out", _fade, "SECONDS[:CURVE]", "fade out over the last SECONDS"),
    "--gain": ("gain", _number, "DB", "change the level by DB decibels (-120 to 60)"),
    "--normalize-peak": ("normalize_peak", _number, "DBFS", "scale so the sample peak is DBFS (-60 to 0)"),
    "--normalize-loudness": ("normalize_loudness", _number, "LUFS",
                             "scale to LUFS integrated loudness (ITU-R BS.1770), the gain capped by --true-peak"),
    "--reverse": ("reverse", None, None, "play backwards"),
    "--resample": ("resample", _rate, "HZ", "resample to HZ (soxr, high quality)"),
    "--mono": ("to_mono", None, None, "mix down to one channel"),
    "--stereo": ("to_stereo", None, None, "mono to both channels; 5.1 and other layouts downmixed (ITU-R BS.775)"),
}


def attach_negative_values(argv: list[str]) -> list[str]:
    """`--trim -1:2` as `--trim=-1:2`: argparse takes a value starting with '-' (other than a plain negative
    number) for a flag and answers "expected one argument"; attached, the flag's own check says what is wrong."""
    valued = {flag for flag, (_, parse, _, _) in FLAGS.items() if parse is not None}
    out: list[str] = []
    for token in argv:
        if out and out[-1] in valued and len(token) > 1 and token[0] == "-" and (token[1].isdigit() or
                                                                               token[1] in ".:"):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


class _AddStep(argparse.Action):
    """Appends a Step to `namespace.steps`, so the operations run in the order they were typed."""

    def __call__(self, parser, namespace, values, option_string=None):
        value, text = (None, "") if values == [] else values  # a switch, or (parsed, as typed)
        steps = list(getattr(namespace, "steps", None) or [])
        steps.append(Step(self.flag, text, FLAGS[self.flag][0], value))
        setattr(namespace, "steps", steps)


def add_step_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("operations (applied in the order given; times in seconds, "
                                      f"ranges {RANGE_HELP})")
    for flag, (name, parse, metavar, help_text) in FLAGS.items():
        kwargs = dict(nargs=0) if parse is None else dict(type=_keeping_text(parse), metavar=metavar)
        action = group.add_argument(flag, action=_AddStep, dest=f"step_{name}", help=help_text, **kwargs)
        action.flag = flag
    parser.set_defaults(steps=[])


def _keeping_text(parse):
    """argparse type: the parsed value with the words it came from, for messages ('--trim 1.5:80: ...')."""
    def convert(text: str):
        return parse(text), text
    convert.__name__ = parse.__name__.lstrip("_")  # argparse names the type in 'invalid X value'
    return convert


def _selection(clip: Clip, start: float, end: Optional[float]) -> Selection:
    """The frames of a range read against this step's audio; InputError when it lies past the end."""
    length = clip.seconds
    if start >= length:
        raise InputError(f"starts at {start:g} s, but the audio at this step lasts "
                         f"{length:.3f} s; give a range inside it.")
    if end is not None and end > length + 0.5 / clip.sample_rate:
        raise InputError(f"ends at {end:g} s, after the end of the audio at this step "
                         f"({length:.3f} s); use {start:g}:end to go to the end.")
    selection = Selection.from_seconds(start, length if end is None else end, clip.sample_rate).clamped(clip.frames)
    if end is None:
        selection = Selection(selection.start, clip.frames)
    if selection.is_empty:
        raise InputError(f"the range is shorter than one sample at {clip.sample_rate} Hz; "
                         "give a wider range.")
    return selection


def apply_step(clip: Clip, step: Step, crossfade: float, true_peak: float) -> EditResult:
    """Run one step on `clip` with the core operation the window's editor runs."""
    run = operation(step.name)
    if step.name in ("trim", "delete", "silence"):
        selection = _selection(clip, *step.value)
        extra = {} if step.name == "trim" else {"crossfade": crossfade}
        return run(clip, selection, **extra)
    if step.name == "insert_silence":
        at, seconds = step.value
        at = clip.seconds if at is None else at
        if at > clip.seconds + 0.5 / clip.sample_rate:
            raise InputError(f"{at:g} s is after the end of the audio at this step "
                             f"({clip.seconds:.3f} s); use end:{seconds:g} to append.")
        frame = min(int(round(at * clip.sample_rate)), clip.frames)
        room = (MAX_CLIP_BYTES / (4 * clip.channels) - clip.frames) / clip.sample_rate
        _check_result_fits(clip, clip.frames + seconds * clip.sample_rate, clip.channels, clip.sample_rate,
                           f"at most {max(room, 0):,.0f} s of silence fit here")
        return run(clip, Selection.cursor(frame), seconds=seconds, crossfade=crossfade)
    if step.name == "resample" and isinstance(step.value, int) and step.value > 0:
        _check_result_fits(clip, clip.frames * step.value / clip.sample_rate, clip.channels, step.value,
                           "resample a shorter part, or to a lower rate")
    if step.name == "to_stereo":
        _check_result_fits(clip, clip.frames, 2, clip.sample_rate, "cut out the part you need first")
    everything = Selection()  # empty: effects act on the whole clip
    params = {"fade_in": lambda v: dict(seconds=v[0], curve=v[1]), "fade_out": lambda v: dict(seconds=v[0], curve=v[1]),
              "gain": lambda v: dict(db=v), "normalize_peak": lambda v: dict(dbfs=v),
              "normalize_loudness": lambda v: dict(lufs=v, true_peak_limit=true_peak),
              "resample": lambda v: dict(rate=v)}.get(step.name, lambda v: {})(step.value)
    return run(clip, everything, **params)


def _check_result_fits(clip: Clip, frames: float, channels: int, rate: int, fix: str) -> None:
    """Refuse, before allocating, a result whose samples would not fit in memory (the limit files are opened
    with): `--insert-silence 0:1e9` was a MemoryError for 175 TiB."""
    needed = frames * channels * 4  # float32
    if needed > MAX_CLIP_BYTES:
        hours = frames / rate / 3600
        length = f"{hours:,.0f} hours" if hours >= 10 else f"{hours * 60:,.1f} minutes"
        raise InputError(f"the result would last {length} of {channels}-channel {rate} Hz audio and need "
                         f"{_size(needed)} of memory (at most {MAX_CLIP_BYTES / 1024**3:.0f} GB); {fix}.")


def _size(size: float) -> str:
    gigabytes = size / 1024**3
    return f"{gigabytes:,.1f} GB" if gigabytes < 1024 else f"{gigabytes / 1024:,.0f} TB"


def check_steps(steps: list[Step], crossfade: float, true_peak: float) -> None:
    """Ask each operation to check its numbers once, before any file is read: the steps that need no range run
    on one second of silence (a bad --gain or --resample is one line, not one per input)."""
    probe = Clip(np.zeros((8_000, 1), np.float32), 8_000)
    for step in steps:
        if step.name in ("trim", "delete", "silence", "insert_silence"):
            continue
        try:
            apply_step(probe, step, crossfade, true_peak)
        except InputError as exc:
            raise InputError(f"{step.describe()}: {exc}") from None


# A levels note about peaks above 0 dBFS speaks of the window's float clip; here only the written file's peak
# matters (a chain may go over and come back with a later normalise), which the export check reports.
_FLOAT_PEAK_NOTE = "The result peaks at"


def worth_saying(note: str) -> bool:
    return bool(note) and not note.startswith(_FLOAT_PEAK_NOTE)
