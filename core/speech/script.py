"""Script mode: a multi-line script spoken line by line into one file plus one file per line.

Script format (plain text, UTF-8):

    # a comment
    @voice host: a calm male narrator speaking in a quiet studio
    @voice guest: an energetic female speaker, close microphone
    [host] Welcome to the show.
    [guest] Thanks for having me!
    This line has no tag, so the default voice (--voice) speaks it.

    A blank line starts a new paragraph: the pause before it is doubled.
    @pause 2.5
    After `@pause SECONDS` the silence before the next line is exactly that long.

A `[NAME]` tag names a voice defined with `@voice`, or a speech preset (built-in or the user's,
matched without regard to case). Every line shares the steps, guidance, scheduler and seed, so
one voice sounds the same from line to line and the whole script is reproducible by its seed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from core.audio.clip import Clip
from core.audio.naming import slugify
from core.audio.provenance import Provenance, save_takes
from core.errors import InputError
from core.generation.engine import Engine, GenerationResult
from core.generation.progress import CancelCheck, ProgressCallback, raise_if_cancelled, report

from .defaults import DEFAULT_PAUSE_SECONDS
from .reference import ReferenceVoice
from .text import normalize_text
from .tts import SpeechRequest, require_speech_model, speak

MAX_PAUSE_SECONDS = 10.0
_TAG = re.compile(r"^\[([^\]]+)\]\s*(.*)$")
_VOICE = re.compile(r"^@voice\s+([^:=]+?)\s*[:=]\s*(.+)$", re.IGNORECASE)
_PAUSE = re.compile(r"^@pause\s+(\d+(?:\.\d*)?|\.\d+)\s*s?$", re.IGNORECASE)


@dataclass(frozen=True)
class ScriptLine:
    number: int  # line number in the script file, for messages
    text: str
    voice: str  # the speaker description used
    voice_name: Optional[str]  # the [tag] as written, None for the default voice
    negative_prompt: str = ""
    pause_before: float = 0.0  # seconds of silence before this line in the joined file


@dataclass
class Script:
    lines: list[ScriptLine]
    voices: dict[str, str] = field(default_factory=dict)

    def check(self, settings: Optional[SpeechRequest] = None) -> None:
        """Spell out every line now, so a bad line is reported by number before the model loads; with the
        script's settings, also check each line's length and numbers the way speaking it would."""
        for line in self.lines:
            try:
                words = normalize_text(line.text)
                if settings is not None:
                    line_request(settings, line, seed=0).generation_request(words)
            except InputError as exc:
                raise InputError(f"script line {line.number}: {exc}") from exc


@dataclass
class ScriptResult:
    lines: list[tuple[ScriptLine, GenerationResult]]  # each line's result, best candidate first
    joined: Clip
    offsets: list[float]  # where each line starts in the joined clip, in seconds


def read_script(path: str | Path, default_voice: str, pause: float = DEFAULT_PAUSE_SECONDS) -> Script:
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a script; name the script's text file (one utterance per "
                         "line), e.g. --script episode.txt.")
    if path.exists() and not path.is_file():
        raise InputError(f"{path} is not a regular file (a pipe or a device); save the script to a file and "
                         "name that.")
    if not path.is_file():
        raise InputError(f"script not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name} is not UTF-8 text; save the script as UTF-8.") from exc
    return parse_script(text, default_voice, pause)


def parse_script(text: str, default_voice: str, pause: float = DEFAULT_PAUSE_SECONDS) -> Script:
    """Parse a script (see the module doc); raise InputError naming the line for anything malformed."""
    if not isinstance(pause, (int, float)) or not 0 <= pause <= MAX_PAUSE_SECONDS:
        raise InputError(f"pause must be from 0 to {MAX_PAUSE_SECONDS:g} seconds (got {pause!r}).")
    voices: dict[str, str] = {}
    lines: list[ScriptLine] = []
    paragraph = False
    exact: Optional[tuple[int, float]] = None  # an @pause waiting for its line: (where, seconds)
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            paragraph = bool(lines)
            continue
        if stripped.startswith("#"):
            continue
        if stripped.lower().startswith("@voice"):
            match = _VOICE.match(stripped)
            if not match:
                raise InputError(f"script line {number}: write a voice as `@voice NAME: description`.")
            voices[match.group(1).strip().lower()] = match.group(2).strip()
            continue
        if stripped.lower().startswith("@pause"):
            match = _PAUSE.match(stripped)
            if not match or float(match.group(1)) > MAX_PAUSE_SECONDS:
                raise InputError(f"script line {number}: write a pause as `@pause SECONDS`, from 0 to "
                                 f"{MAX_PAUSE_SECONDS:g} (e.g. `@pause 1.5`).")
            exact = (number, float(match.group(1)))
            continue
        voice, name, negative = default_voice, None, ""
        match = _TAG.match(stripped)
        if match is None and stripped.startswith("["):
            raise InputError(f"script line {number}: the voice tag has no closing ]; write the voice's name in "
                             "brackets before the words, e.g. [host] Welcome to the show.")
        if match:
            name, stripped = match.group(1).strip(), match.group(2).strip()
            voice, negative = _resolve_voice(name, voices, number)
            if not stripped:
                raise InputError(f"script line {number}: [{name}] has no words after it.")
        gap = 0.0 if not lines else pause * (2 if paragraph else 1)
        if exact is not None:
            gap, exact = exact[1], None
        lines.append(ScriptLine(number, stripped, voice, name, negative, gap))
        paragraph = False
    if not lines:
        raise InputError("the script has no lines to speak; write one utterance per line.")
    if exact is not None:
        raise InputError(f"script line {exact[0]}: @pause sets the silence before the next line, and no line "
                         "follows it.")
    return Script(lines, voices)


def _resolve_voice(name: str, voices: dict[str, str], number: int) -> tuple[str, str]:
    if name.lower() in voices:
        return voices[name.lower()], ""
    from core.generation.presets import presets_for

    presets = presets_for("speech")
    for preset in presets:
        if preset.name.lower() == name.lower() and preset.prompt:
            return preset.prompt, preset.negative_prompt
    known = sorted(voices) + [p.name for p in presets]
    raise InputError(f"script line {number}: unknown voice [{name}]; define it with `@voice {name}: description`"
                     + (f" or use one of: {', '.join(known)}." if known else "."))


def render_script(engine: Engine, script: Script, settings: SpeechRequest,
                  reference: Optional[ReferenceVoice] = None, progress: Optional[ProgressCallback] = None,
                  cancel: CancelCheck = None) -> ScriptResult:
    """Speak every line with the same settings and seed; join the best takes with the pauses between."""
    script.check(settings)
    require_speech_model(engine)
    seed = script_seed(settings)
    results = []
    for i, line in enumerate(script.lines):
        raise_if_cancelled(cancel)
        report(progress, "line", i, len(script.lines))
        results.append((line, render_line(engine, line, settings, seed, reference, progress, cancel)))
    report(progress, "line", len(script.lines), len(script.lines))
    return assemble(results)


def script_seed(settings: SpeechRequest) -> int:
    """The one concrete seed every line of a script uses: the settings' seed, or a fresh random one."""
    return replace(settings, text="x", seconds=1.0).generation_request("x").seed


def line_request(settings: SpeechRequest, line: ScriptLine, seed: int) -> SpeechRequest:
    """What one script line is spoken with: the script's settings, the line's voice, the given seed."""
    return replace(settings, text=line.text, voice=line.voice, seed=seed, seconds=None,
                   negative_prompt=line.negative_prompt or settings.negative_prompt)


def render_line(engine: Engine, line: ScriptLine, settings: SpeechRequest, seed: int,
                reference: Optional[ReferenceVoice] = None, progress: Optional[ProgressCallback] = None,
                cancel: CancelCheck = None) -> GenerationResult:
    """Speak one script line exactly as render_script does with this seed (so one line re-renders alone:
    the script's seed reproduces its take, another seed re-rolls it)."""
    try:
        result = speak(engine, line_request(settings, line, seed), reference=reference, progress=progress,
                       cancel=cancel)
    except InputError as exc:
        raise InputError(f"script line {line.number}: {exc}") from exc
    for candidate in result.candidates:
        candidate.settings["script_line"] = line.number
        candidate.settings["voice_name"] = line.voice_name
    return result


def assemble(results: list[tuple[ScriptLine, GenerationResult]]) -> ScriptResult:
    """The script from each line's result: best takes joined with each line's pause before it."""
    if not results:
        raise InputError("the script has no rendered lines to join.")
    joined, offsets = join_lines([(line.pause_before, result.best.clip) for line, result in results])
    return ScriptResult(list(results), joined, offsets)


def join_lines(parts: list[tuple[float, Clip]]) -> tuple[Clip, list[float]]:
    """Concatenate clips with `pause` seconds of silence before each; return the clip and the start times."""
    rate = parts[0][1].sample_rate
    pieces, offsets, at = [], [], 0
    for pause, clip in parts:
        if clip.sample_rate != rate:
            clip = clip.resampled(rate)
        gap = int(round(pause * rate))
        pieces.append(np.zeros((gap, clip.channels), np.float32))
        at += gap
        offsets.append(at / rate)
        pieces.append(clip.samples)
        at += clip.frames
    return Clip(np.concatenate(pieces), rate), offsets


def line_number_width(count: int) -> int:
    """Digits for line file numbers, so `100-...` sorts after `099-...` (at least two)."""
    return max(2, len(str(count)))


def line_file_name(line: ScriptLine, index: int, extension: str = ".wav", width: int = 2) -> str:
    """NN-words.ext; `width` digits (the script's line count's, at least 2) so files sort in script order."""
    return f"{index:0{width}d}-{slugify(line.text, 40)}{extension}"


def script_file_names(result: ScriptResult, name: str = "script", extension: str = ".wav") -> list[str]:
    """The files write_script makes, joined file first (each with a `.json` sidecar beside it)."""
    width = line_number_width(len(result.lines))
    return [f"{name}{extension}"] + [line_file_name(line, i, extension, width)
                                      for i, (line, _) in enumerate(result.lines, start=1)]


def write_script(result: ScriptResult, folder: str | Path, name: str = "script", extension: str = ".wav",
                 subtype: Optional[str] = None, overwrite: bool = True,
                 rate: Optional[int] = None, inputs: Sequence[str | Path] = ()) -> tuple[Path, list[Path]]:
    """Write NAME.wav (the whole script) and NN-words.wav per line, each with its provenance sidecar.
    `extension`, `subtype` and `rate` are the Export dialog's choices (core.audio.formats.take), checked first.

    All files land as one atomic set (core.audio.provenance.save_takes): an error or Ctrl+C leaves all of
    them or none, never a half-written file. Without `overwrite`, existing files are refused (nothing written).
    `inputs` (the reference recording) are never written over, whatever `overwrite` says.
    """
    from core.audio.formats.export import ExportSettings
    from core.audio.formats.take import for_path, render_take

    choice = for_path(ExportSettings(sample_format=subtype, sample_rate=rate), Path(f"{name}{extension}"))
    folder = Path(folder)
    takes = []
    records = []
    width = line_number_width(len(result.lines))
    for index, ((line, line_result), offset) in enumerate(zip(result.lines, result.offsets), start=1):
        best = line_result.best
        path = folder / line_file_name(line, index, extension, width)
        takes.append((render_take(best.clip, choice), path, line_result.provenance(best)))
        records.append({"line": line.number, "file": path.name, "text": line.text, "voice": line.voice,
                        "voice_name": line.voice_name, "seed": best.seed, "start": round(offset, 6),
                        "seconds": round(best.clip.seconds, 6)})
    first = result.lines[0][1]
    settings = {k: v for k, v in first.best.settings.items()
                if k in ("steps", "guidance", "scheduler", "negative_prompt", "reference", "reference_text")}
    provenance = Provenance(prompt=f"script: {name}", model_id=first.model_id, licence=first.licence,
                            seed=first.best.seed, settings={**settings, "lines": records})
    joined_audio = render_take(result.joined, choice)
    from core.output_checks import check_output_paths

    targets = [folder / f"{name}{extension}"] + [path for _, path, _ in takes]
    check_output_paths([p for t in targets for p in (t, t.with_name(t.name + ".json"))], overwrite=True,
                       inputs=[p for p in inputs if p is not None])
    joined, *line_paths = save_takes([(joined_audio, folder / f"{name}{extension}", provenance), *takes],
                                     subtype=subtype, overwrite=overwrite)
    return joined, line_paths
