"""Batch rows that work on an audio file (`source`): continue, inpaint, loop (extend by bars, or close), transform.

Columns beside the usual ones: `source` (the file; a relative path is read from the job file's folder), `start`
and `end` (seconds; inpaint needs both, transform defaults to the whole file), `strength` (transform, 0..1,
default 0.5), `seconds` (continue: how much to add, default 5; loop: how much of the end a close regenerates),
`bars`, `bpm`, `beats_per_bar` (loop: extend by bars at the tempo, estimated from the audio without `bpm`; a loop
row without bars closes the loop). Every row's file is read and checked up front with the same checks the run
does (core.generation.tasks.check): a silent clip or a range past its end is `line N: FIELD: problem`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from core.errors import InputError

SOURCE_MODES = ("continue", "inpaint", "loop", "transform")
SOURCE_COLUMNS = {"source", "start", "end", "strength"}


class RowProblem(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def source_path(text: Optional[str], mode: str, base: Path) -> Path:
    if not text:
        raise RowProblem("source", f"a {mode} row needs the audio file to work on (source column)")
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base / path
    if not path.is_file():
        raise RowProblem("source", f"source file not found: {path}")
    return path


def source_fields(mode: str, get: Callable, number: Callable, base: Path, clips: dict) -> dict:
    """The checked in-context fields of a row (see the module docstring); RowProblem names the bad one."""
    from core.generation.defaults import CONTINUE_SECONDS
    from core.incontext.defaults import DEFAULT_STRENGTH

    path = source_path(get("source"), mode, base)
    value = lambda key, kind=float: number(get(key), key, kind) if get(key) is not None else None  # noqa: E731
    fields = dict(source=str(path), start=value("start"), end=value("end"), strength=value("strength"),
                  bars=value("bars", int), bpm=value("bpm"), beats_per_bar=value("beats_per_bar", int) or 4,
                  seconds=value("seconds"))
    allowed = {"continue": {"seconds"}, "inpaint": {"start", "end"}, "transform": {"start", "end", "strength"},
               "loop": {"seconds", "bars", "bpm", "beats_per_bar"}}[mode]
    for key in ("start", "end", "strength", "bars", "bpm", "seconds"):
        if fields[key] is not None and key not in allowed:
            raise RowProblem(key, f"{key} is not used by {mode} rows (they take {', '.join(sorted(allowed))})")
    if mode == "loop" and fields["bars"] is None and fields["bpm"] is not None:
        raise RowProblem("bars", "bpm goes with bars (extend the loop by bars); leave both out to close the loop")
    if mode == "loop" and fields["bars"] is not None and fields["seconds"] is not None:
        raise RowProblem("seconds", "give bars to extend the loop, or seconds to close it, not both")
    if mode == "inpaint" and (fields["start"] is None or fields["end"] is None):
        raise RowProblem("start" if fields["start"] is None else "end", "an inpaint row needs start and end (seconds)")
    if mode == "continue" and fields["seconds"] is None:
        fields["seconds"] = CONTINUE_SECONDS
    if mode == "transform":
        fields["strength"] = DEFAULT_STRENGTH if fields["strength"] is None else fields["strength"]
        fields["start"] = fields["start"] or 0.0
    return fields


def check_source_task(task, clips: dict) -> None:
    """Run the task's own checks on its file (read once per file); RowProblem naming the field."""
    from core.audio.clip import load_clip
    from core.generation import tasks

    key = str(task.source)
    if key not in clips:
        try:
            clips[key] = load_clip(key)
        except (InputError, OSError, RuntimeError) as exc:
            clips[key] = InputError(f"cannot read {key} as audio ({exc})")
    clip = clips[key]
    if isinstance(clip, InputError):
        raise RowProblem("source", str(clip))
    try:
        tasks.check(task, clip)
    except InputError as exc:
        text = str(exc)
        field = next((f for f in ("strength", "start", "end") if text.startswith(f) or f"{f}=" in text), "source")
        raise RowProblem("start" if field == "source" and "range" in text else field, text) from None


def source_row(line, mode, values, get, prompt, model, steps, guidance, scheduler, seed, count, output_format,
               base, clips):
    """The checked JobRow of a continue / inpaint / loop / transform row (core.batch.jobs calls it)."""
    from .jobs import DEFAULT_PATTERN, KNOWN, JobRow, _Bad, _check_pattern, _number, _text
    from .render import task_for_row

    fields = source_fields(mode, get, _number, base, clips)
    negative = _text(get("negative")) or ""
    try:
        from core.generation.requests import GenerationSettings

        GenerationSettings(prompt, negative, steps, guidance, seed, 1, scheduler).request(1.0).validated()
    except InputError as exc:
        first = str(exc).split()[0].strip(":")
        raise _Bad(first if first in KNOWN else "row", str(exc)) from None
    extra = {k: v for k, v in values.items() if k not in KNOWN and k and v not in (None, "")}
    row = JobRow(line, mode, prompt, negative, fields["seconds"], fields["bars"], fields["bpm"],
                 fields["beats_per_bar"], seed, count, model, steps, guidance, scheduler, None,
                 _text(get("output")) or DEFAULT_PATTERN, extra, output_format, source=fields["source"],
                 start=fields["start"], end=fields["end"], strength=fields["strength"])
    check_source_task(task_for_row(row, seed, 1), clips)
    _check_pattern(row, output_format)
    return row
