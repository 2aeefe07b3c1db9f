"""Job files: CSV or JSONL, one row per prompt, read and checked whole before any model work.

Columns (header names, any case): prompt, negative, seconds (or bars + bpm [+ beats_per_bar, beat_unit]), count,
seed (one number, or a range `100-103` that sets count), model, steps, guidance, scheduler, mode (sound or generate,
music, speech, continue, inpaint, loop, transform), words and voice (speech), source, start, end, strength (the
in-context modes, core.batch.source_rows), output (the name pattern, e.g. `{category}/{slug}_{seed}`). Any other column is carried
into each file's metadata and can be used in the pattern. Every bad row is reported with its line and field.
The files' format (`output_format`: the Export dialog's container, bit depth and rate, core.audio.formats.take)
applies to every row; a pattern ending in an extension keeps that row's container.
The text is split into rows by core.batch.job_reader; this module checks them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Mapping, Optional

from core.audio.clip import FORMATS
from core.audio.formats.export import ExportSettings
from core.audio.formats.take import extension_for, for_path, key_fields
from core.audio.naming import slugify
from core.errors import InputError, ModelNotAvailable
from core.generation.requests import MAX_CANDIDATES, MAX_SEED, GenerationRequest

from .job_reader import RowError, csv_rows, file_kind, jsonl_rows, listed
from .source_rows import SOURCE_COLUMNS, SOURCE_MODES, RowProblem

MODES = ("sound", "music", "speech", "generate") + SOURCE_MODES  # generate: text-to-audio, as sound
KNOWN = {"prompt", "negative", "seconds", "bars", "bpm", "beats_per_bar", "beat_unit", "count", "seed", "model", "steps",
         "guidance", "scheduler", "mode", "words", "voice", "output"} | SOURCE_COLUMNS
MAX_COUNT = 1000
DEFAULT_PATTERN = "{slug}_{seed}"
EXTENSIONS = tuple(FORMATS)  # .wav .flac .ogg .oga .opus .aiff .aif .mp3
MAX_NAME_BYTES = 255  # one file or folder name, encoded (ext4, APFS, NTFS in UTF-16 units: at least this)
PATTERN_NAMES = ("slug", "seed", "index", "line", "mode", "model")


@dataclass(frozen=True)
class JobRow:
    """One checked row. `prompt` is the voice description for speech rows; seeds run seed .. seed+count-1."""

    line: int
    mode: str
    prompt: str
    negative: str
    seconds: Optional[float]
    bars: Optional[int]
    bpm: Optional[float]
    beats_per_bar: int
    seed: int
    count: int
    model: str
    steps: int
    guidance: float
    scheduler: str
    words: Optional[str]
    pattern: str
    extra: dict[str, Any] = field(default_factory=dict)
    output_format: Optional[ExportSettings] = None  # None: the generated-take rule at the model's rate
    beat_unit: int = 4  # the meter's lower number (8 for 7/8); the tempo counts quarter notes
    source: Optional[str] = None  # in-context rows (core.batch.source_rows): the audio file, a range, a strength
    start: Optional[float] = None
    end: Optional[float] = None
    strength: Optional[float] = None

    @property
    def seeds(self) -> range:
        return range(self.seed, self.seed + self.count)

    def settings(self) -> dict[str, Any]:
        """Everything that shapes the audio (not the name): a change re-renders the row's files."""
        return {"mode": self.mode, "prompt": self.prompt, "negative": self.negative, "seconds": self.seconds,
                "bars": self.bars, "bpm": self.bpm, "beats_per_bar": self.beats_per_bar, "model": self.model,
                "steps": self.steps, "guidance": self.guidance, "scheduler": self.scheduler, "words": self.words,
                **({"beat_unit": self.beat_unit} if self.beat_unit != 4 else {}),  # (x/4 rows keep their keys)
                **key_fields(self.output_format),
                **({"source": self.source, "start": self.start, "end": self.end, "strength": self.strength}
                   if self.source is not None else {})}

    def relative_path(self, seed: int) -> PurePosixPath:
        return _pattern_path(self.pattern, self._names(seed), extension_for(self.output_format))

    def _names(self, seed: int) -> dict[str, str]:
        title = self.words if self.mode == "speech" and self.words else self.prompt
        if not title and self.source:
            title = Path(self.source).stem
        names = {k: slugify(str(v)) for k, v in self.extra.items()}
        return names | {"slug": slugify(title), "seed": str(seed), "index": str(seed - self.seed + 1),
                        "line": str(self.line), "mode": self.mode, "model": slugify(self.model.rstrip("/").split("/")[-1])}


@dataclass
class JobFile:
    path: Path
    rows: list[JobRow]
    errors: list[RowError]
    notes: list[str] = field(default_factory=list)  # how the file was read, when it could surprise (one line each)

    @property
    def name(self) -> str:
        return self.path.stem


def read_jobs(path: str | Path, default_model: Optional[str | Mapping[str, str]] = None,
              output_format: Optional[ExportSettings] = None) -> JobFile:
    """Read and check every row; never raises for a bad row (they are all in `.errors`), only for a file that
    cannot be read at all. `default_model` is used by rows that name no model: one for every mode, or a mapping
    mode -> model (the window passes the model picked for each mode). `output_format` (checked by
    core.audio.formats.take.take_choice): every row's container, bit depth and rate."""
    path = Path(path)
    if str(path) == "-":  # a resumable batch needs its list again on the next run
        raise InputError("reading the job list from standard input (-) is not supported; save it as a CSV or "
                         "JSONL file and name that.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"job file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read job file {path} ({exc}); save it as UTF-8 CSV or JSONL.") from None
    kind, notes = file_kind(path, text)
    raw, errors = jsonl_rows(text) if kind == "jsonl" else csv_rows(text, path)
    if not raw and not errors:
        raise InputError(f"job file {path} has no rows; give one prompt per row (see `loa batch --help`).")
    carried = sorted({k for _, values in raw for k in values if k and k not in KNOWN})
    if carried:
        notes.append(f"{listed(carried, 'column')} {'is not a setting' if len(carried) == 1 else 'are not settings'}"
                     ": carried into each file's metadata and usable in the output pattern (the settings are "
                     "listed by `loa batch --help`)")
    rows, models, clips = [], {}, {}
    for line, values in raw:
        row = _check_row(line, values, default_model, models, errors, output_format, path.parent, clips)
        if row is not None:
            rows.append(row)
    _check_unique_paths(rows, errors)
    errors.sort(key=lambda e: e.line)
    bad = {e.line for e in errors}
    return JobFile(path, [r for r in rows if r.line not in bad], errors, notes)


# ---- checking ----------------------------------------------------------------------------------------------


class _Bad(Exception):
    def __init__(self, field: str, message: str, missing_model: bool = False) -> None:
        super().__init__(message)
        self.field, self.message, self.missing_model = field, message, missing_model


def _check_row(line: int, values: dict, default_model, models: dict, errors: list[RowError],
               output_format: Optional[ExportSettings] = None, base: Path = Path("."),
               clips: Optional[dict] = None) -> Optional[JobRow]:
    try:
        return _build_row(line, values, default_model, models, output_format, base, {} if clips is None else clips)
    except RowProblem as bad:
        errors.append(RowError(line, bad.field, bad.message))
        return None
    except _Bad as bad:
        errors.append(RowError(line, bad.field, bad.message, bad.missing_model))
        return None


def _build_row(line: int, values: dict, default_model, models: dict,
               output_format: Optional[ExportSettings] = None, base: Path = Path("."),
               clips: Optional[dict] = None) -> JobRow:
    from core.generation.defaults import defaults_for
    from core.models.catalog import DEFAULT_MODEL_BY_TASK

    get = lambda key: _blank_to_none(values.get(key))  # noqa: E731
    mode = (_text(get("mode")) or "sound").lower()
    if mode not in MODES:
        raise _Bad("mode", f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    prompt, words = _text(get("prompt")) or "", _text(get("words"))
    if mode == "speech":
        if not words:
            raise _Bad("words", "a speech row needs the words to say (words column)")
        prompt = _text(get("voice")) or prompt
    elif not prompt and mode not in ("continue", "inpaint", "loop"):  # those may let the audio speak for itself
        raise _Bad("prompt", "prompt is empty; describe the sound, e.g. \"rain on a tin roof\"")
    task = mode if mode in ("music", "speech") else "sound"
    fallback = default_model.get(task) if isinstance(default_model, Mapping) else default_model
    model = _text(get("model")) or fallback or DEFAULT_MODEL_BY_TASK[task]
    _check_model(model, "speech" if mode == "speech" else "sound", models)
    defaults = defaults_for(model)
    steps = _number(get("steps"), "steps", int) if get("steps") is not None else defaults.steps
    guidance = _number(get("guidance"), "guidance", float) if get("guidance") is not None else defaults.guidance
    scheduler = _text(get("scheduler")) or defaults.scheduler
    seed, count = _seeds(get("seed"), get("count"), values)
    if mode in SOURCE_MODES:
        from .source_rows import source_row

        return source_row(line, mode, values, get, prompt, model, steps, guidance, scheduler, seed, count,
                          output_format, base, clips)
    bars, bpm, beats, unit = get("bars"), get("bpm"), get("beats_per_bar"), get("beat_unit")
    seconds = _number(get("seconds"), "seconds", float) if get("seconds") is not None else None
    if bars is not None or bpm is not None:
        bars, bpm, beats, unit, seconds = _bars(bars, bpm, beats, unit, seconds, mode)
    elif mode != "speech" and seconds is None:
        seconds = defaults.seconds
    negative = _text(get("negative")) or ""
    _check_request(mode, prompt, negative, seconds, steps, guidance, scheduler, seed, words)
    pattern = _text(get("output")) or DEFAULT_PATTERN
    extra = {k: v for k, v in values.items() if k not in KNOWN and k and v not in (None, "")}
    row = JobRow(line, mode, prompt, negative, seconds, bars, bpm, beats or 4, seed, count, model, steps, guidance,
                 scheduler, words, pattern, extra, output_format, unit or 4)
    _check_pattern(row, output_format)
    return row


def _check_pattern(row: JobRow, output_format) -> None:
    for s in (row.seed, row.seeds[-1]):
        try:
            for_path(output_format, Path(str(row.relative_path(s))))  # e.g. a `.mp3` pattern with --bit-depth 24
        except InputError as exc:
            raise _Bad("output", str(exc)) from None


def _check_model(model: str, mode: str, models: dict) -> None:
    from core.models.loading import is_speech_folder
    from core.models.store import resolve_model

    if model not in models:
        try:
            models[model] = ("ok", is_speech_folder(resolve_model(model).folder))
        except ModelNotAvailable as exc:
            models[model] = ("missing", str(exc))
        except InputError as exc:
            models[model] = ("bad", str(exc))
    state, detail = models[model]
    if state != "ok":
        raise _Bad("model", detail, missing_model=state == "missing")
    if detail != (mode == "speech"):
        need = "a speech checkpoint such as anhnct/audioldm2_gigaspeech" if mode == "speech" else \
            "a sound or music checkpoint (speech checkpoints need mode speech and words)"
        raise _Bad("model", f"{model} does not fit mode {mode}; use {need}")


def _seeds(seed, count, values) -> tuple[int, int]:
    count = _number(count, "count", int) if count is not None else None
    if count is not None and not 1 <= count <= MAX_COUNT:
        raise _Bad("count", f"count must be a whole number from 1 to {MAX_COUNT} (got {count})")
    if isinstance(seed, str) and "-" in seed.strip().lstrip("-"):
        first, _, last = seed.strip().partition("-")
        try:
            start, end = int(first), int(last)
        except ValueError:
            raise _Bad("seed", f"seed range {seed!r} is not two whole numbers like 100-103") from None
        if end < start:
            raise _Bad("seed", f"seed range {seed!r} runs backwards; write the lower seed first")
        if count is not None and count != end - start + 1:
            raise _Bad("seed", f"seed range {seed!r} holds {end - start + 1} seeds but count is {count}")
        count = end - start + 1
        if count > MAX_COUNT:
            raise _Bad("seed", f"seed range {seed!r} holds {count} seeds; at most {MAX_COUNT} per row")
    elif seed is not None:
        start = _number(seed, "seed", int)
    else:  # a stable seed from the row itself, so names stay the same on every run
        digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()
        start = int(digest[:8], 16) % (MAX_SEED - MAX_CANDIDATES - MAX_COUNT)
    count = count or 1
    if not 0 <= start or start + count - 1 > MAX_SEED - MAX_CANDIDATES:
        raise _Bad("seed", f"seeds must lie from 0 to {MAX_SEED - MAX_CANDIDATES} (got {start}..{start + count - 1})")
    return start, count


def _bars(bars, bpm, beats, unit, seconds, mode):
    from core.generation.bar_locked import BarLock

    if mode == "speech":
        raise _Bad("bars", "bars and bpm are for music and sound rows, not speech")
    if bars is None or bpm is None:
        raise _Bad("bars" if bars is None else "bpm", "bars and bpm go together: give both, or seconds instead")
    if seconds is not None:
        raise _Bad("seconds", "give either seconds or bars + bpm, not both")
    lock = BarLock(_number(bars, "bars", int), _number(bpm, "bpm", float),
                   _number(beats, "beats_per_bar", int) if beats is not None else 4,
                   beat_unit=_number(unit, "beat_unit", int) if unit is not None else 4)
    try:
        lock.validated()
    except InputError as exc:
        raise _Bad("beat_unit" if "beat unit" in str(exc) else "bars", str(exc)) from None
    return lock.bars, lock.bpm, lock.beats_per_bar, lock.beat_unit, round(lock.seconds, 6)


def _check_request(mode, prompt, negative, seconds, steps, guidance, scheduler, seed, words) -> None:
    try:
        if mode == "speech":
            from core.speech.tts import SpeechRequest

            SpeechRequest(text=words, voice=prompt or "", seconds=seconds, negative_prompt=negative, steps=steps,
                          guidance=guidance, seed=seed, scheduler=scheduler).generation_request()
        else:
            GenerationRequest(prompt=prompt, negative_prompt=negative, seconds=seconds, steps=steps,
                              guidance=guidance, seed=seed, scheduler=scheduler).validated()
    except InputError as exc:
        message = str(exc)
        first = message.split()[0].strip(":")
        name = {"transcription": "words", "this": "words"}.get(first, first)
        raise _Bad(name if name in KNOWN else "row", message) from None


def _check_unique_paths(rows: list[JobRow], errors: list[RowError]) -> None:
    """Each file is written once: two rows, or two variations of one row, never share a name."""
    owner: dict[str, int] = {}
    for row in rows:
        mine: set[str] = set()
        for seed in row.seeds:
            key = str(row.relative_path(seed)).lower()  # case-insensitive file systems too
            if key in mine:
                errors.append(RowError(row.line, "output", f"its {row.count} variations would all be named "
                                       f"{row.relative_path(seed)}; add {{seed}} or {{index}} to the output pattern, "
                                       "or set count to 1"))
                break
            if key in owner:
                errors.append(RowError(row.line, "output", f"{row.relative_path(seed)} is also the name of a file "
                                       f"of line {owner[key]}; add {{seed}} or {{line}} to the output pattern"))
                break
            owner[key] = row.line
            mine.add(key)


def _pattern_path(pattern: str, names: dict[str, str], extension: str = ".wav") -> PurePosixPath:
    try:
        text = pattern.format_map(names)
    except KeyError as exc:
        raise InputError(f"unknown name {{{exc.args[0]}}} in output pattern {pattern!r}; use "
                         f"{', '.join('{' + n + '}' for n in sorted(names))}") from None
    except (ValueError, IndexError) as exc:
        raise InputError(f"output pattern {pattern!r} is malformed ({exc}); write names in braces like {{slug}}") \
            from None
    path = PurePosixPath(text.replace("\\", "/"))
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or not path.parts:
        raise InputError(f"output pattern {pattern!r} must name a file inside --out (no leading / or ..)")
    if path.suffix.lower() not in EXTENSIONS:
        path = path.with_name(path.name + extension)
    if "\0" in text:
        raise InputError(f"output pattern {_shown(pattern)} holds a NUL character (\\0), which no file name may hold; "
                         "remove it")
    for part in path.parts:
        size = len(part.encode("utf-8", "surrogateescape"))
        if size > MAX_NAME_BYTES:
            raise InputError(f"output pattern {_shown(pattern)} makes a name of {size} bytes ({part[:20]}...); file "
                             f"systems allow {MAX_NAME_BYTES}, so shorten the pattern or its values")
    return path


def _shown(pattern: str) -> str:
    return repr(pattern) if len(pattern) <= 60 else repr(pattern[:40]) + f"... ({len(pattern)} characters)"


def _blank_to_none(value):
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _text(value) -> Optional[str]:
    return None if value is None else str(value).strip()


def _number(value, name: str, kind):
    if isinstance(value, bool):
        raise _Bad(name, f"{name} must be a number (got {value!r})")
    try:
        number = float(str(value).strip()) if not isinstance(value, (int, float)) else value
    except ValueError:
        raise _Bad(name, f"{name} must be a number (got {value!r})") from None
    if kind is int:
        if number != number or number in (float("inf"), float("-inf")) or int(number) != number:
            raise _Bad(name, f"{name} must be a whole number (got {value!r})")
        return int(number)
    return float(number)
