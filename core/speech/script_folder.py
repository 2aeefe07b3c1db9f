"""Script mode into a folder, line by line: every line is checked before any model work, each line's file lands
(atomically, with its sidecar) as soon as it is spoken, and a rerun skips the lines already rendered with the same
settings, so a failure or Ctrl+C at line 101 of 500 keeps lines 1-100 and the rerun starts at 101.

"The same settings" is a render key (a hash of the line's words, voice, negative prompt, steps, guidance,
scheduler, candidates, seed, model, reference recording and output format) kept in each line's sidecar as
`settings.render_key`. Without --seed a rerun reuses the seed recorded by the earlier run in that folder, so
resuming is the default; a different --seed renders everything anew (files in the way need --overwrite).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from core.audio.clip import Clip, load_clip
from core.audio.formats.export import ExportSettings
from core.audio.formats.take import for_path, render_take, write_take
from core.audio.provenance import Provenance, file_sha256, sidecar_path
from core.errors import InputError
from core.generation.engine import Engine, GenerationResult
from core.generation.progress import CancelCheck, ProgressCallback, raise_if_cancelled, report
from core.output_checks import OutputExists, check_output_paths
from core.stale_temps import sweep_folder

from .reference import ReferenceVoice
from .script import (
    Script,
    ScriptLine,
    join_lines,
    line_file_name,
    line_number_width,
    line_request,
    render_line,
    script_seed,
)
from .text import check_speakable, normalize_text
from .tts import SpeechRequest, require_speech_model

OVERWRITE_HINT = "it was rendered with other settings; pass --overwrite to replace it, or use another -o folder"


@dataclass
class PlannedLine:
    index: int  # 1-based position in the script
    line: ScriptLine
    path: Path
    key: str
    done: bool  # already in the folder, rendered with the same settings, and intact
    replace: bool = False  # our own earlier render of this line, damaged or missing: rendered again in place


@dataclass
class ScriptPlan:
    folder: Path
    name: str
    extension: str
    subtype: Optional[str]
    seed: int
    seed_from_earlier_run: bool
    lines: list[PlannedLine]
    joined_path: Path
    joined_key: str
    joined_done: bool
    rate: Optional[int] = None  # resample every file to this rate (None: the model's)
    joined_replace: bool = False

    @property
    def choice(self) -> ExportSettings:
        return ExportSettings(sample_format=self.subtype, sample_rate=self.rate)

    @property
    def pending(self) -> list[PlannedLine]:
        return [p for p in self.lines if not p.done]


def plan_script(script: Script, settings: SpeechRequest, folder: str | Path, name: str, model: str,
                reference: Optional[ReferenceVoice] = None, extension: str = ".wav", subtype: Optional[str] = None,
                overwrite: bool = False, rate: Optional[int] = None, inputs: Sequence[str | Path] = ()) -> ScriptPlan:
    """Check every line and every output file before any model work; find the lines already rendered.

    Raises InputError naming the script line (words, length, reference fit) or OutputError/OutputExists naming
    the file (a line file rendered with other settings is refused unless `overwrite`). `extension`, `subtype`
    and `rate` are the Export dialog's choices (core.audio.formats.take), checked here before any model work.
    `inputs` (the script, the reference recording) are never written over, whatever `overwrite` says. A line
    file of an earlier run is taken only when its audio reads back whole (length and sha256 as its sidecar
    records); otherwise, and when it is missing, the line is rendered again."""
    script.check(settings)
    for_path(ExportSettings(sample_format=subtype, sample_rate=rate), Path(f"{name}{extension}"))
    if reference is not None:
        from .tts import check_reference_fits

        for line in script.lines:
            try:
                check_reference_fits(line_request(settings, line, 0), reference)
            except InputError as exc:
                raise InputError(f"script line {line.number}: {exc}") from exc
    folder = Path(folder)
    width = line_number_width(len(script.lines))
    paths = [folder / line_file_name(line, i, extension, width) for i, line in enumerate(script.lines, start=1)]
    joined_path = folder / f"{name}{extension}"
    if folder.is_dir():
        sweep_folder(folder, force=True)  # a set a killed writer left half-renamed goes back whole first
    check_output_paths([p for path in [joined_path, *paths] for p in (path, sidecar_path(path))], overwrite=True,
                       inputs=[p for p in inputs if p is not None])
    earlier = _earlier_seed(paths, name) if settings.seed is None else None
    seed = earlier if earlier is not None else script_seed(settings)
    planned = []
    for index, (line, path) in enumerate(zip(script.lines, paths), start=1):
        key = _render_key(line_request(settings, line, seed), model, reference, extension, subtype, rate)
        planned.append(PlannedLine(index, line, path, key, *_rendered_with(path, key, overwrite)))
    joined_key = _hash([p.key for p in planned] + [line.pause_before for line in script.lines] + [name])
    joined_done, joined_replace = _rendered_with(joined_path, joined_key, overwrite)
    return ScriptPlan(folder, name, extension, subtype, seed, earlier is not None, planned, joined_path,
                      joined_key, joined_done, rate, joined_replace)


def render_plan(engine: Optional[Engine], plan: ScriptPlan, settings: SpeechRequest,
                reference: Optional[ReferenceVoice] = None, progress: Optional[ProgressCallback] = None,
                cancel: CancelCheck = None, overwrite: bool = False,
                on_line: Optional[Callable[[PlannedLine, Optional[GenerationResult]], None]] = None) -> tuple[Path, list[dict], float]:
    """Speak the pending lines, writing each line's file as it completes, then the joined file.

    `engine` may be None when every line is already rendered. Returns the joined file, one record per line
    (line number, file, start, seconds, seed...; as also stored in the joined file's sidecar) and the joined
    length in seconds."""
    if plan.pending:
        require_speech_model(engine)
        _check_all_speakable(engine, plan, reference)  # the tokenizer's verdict on every line before rendering
    clips: list[Clip] = []
    records: list[dict] = []
    model_id = licence = None
    for i, planned in enumerate(plan.lines):
        raise_if_cancelled(cancel)
        report(progress, "line", i, len(plan.lines))
        result = None
        if planned.done:
            clip, record = load_clip(planned.path), json.loads(sidecar_path(planned.path).read_text())
            seed, model_id, licence = record.get("seed"), record.get("model_id"), record.get("licence")
        else:
            result = render_line(engine, planned.line, settings, plan.seed, reference, progress, cancel)
            best = result.best
            best.settings.update(script=plan.name, script_seed=plan.seed, render_key=planned.key)
            # Lands now, whole: a failure or Ctrl+C later keeps it for the rerun to skip.
            clip = render_take(best.clip, plan.choice)  # at the chosen rate, as a line taken from the folder is
            write_take(clip, planned.path, result.provenance(best), plan.choice, overwrite=overwrite or planned.replace,
                       rendered=True)
            seed, model_id, licence = best.seed, result.model_id, result.licence
        clips.append(clip)
        records.append({"line": planned.line.number, "file": planned.path.name, "text": planned.line.text,
                        "voice": planned.line.voice, "voice_name": planned.line.voice_name, "seed": seed,
                        "seconds": round(clip.seconds, 6), "path": str(planned.path), "rendered": not planned.done})
        if on_line is not None:
            on_line(planned, result)  # result is None for a line taken from the folder
    report(progress, "line", len(plan.lines), len(plan.lines))
    joined, offsets = join_lines([(p.line.pause_before, clip) for p, clip in zip(plan.lines, clips)])
    for record, start in zip(records, offsets):
        record["start"] = round(start, 6)
    if not plan.joined_done:
        stored = [{k: v for k, v in r.items() if k not in ("path", "rendered")} for r in records]
        keep = ("steps", "guidance", "scheduler", "negative_prompt")
        provenance = Provenance(prompt=f"script: {plan.name}", model_id=model_id or "", licence=licence or "",
                                seed=plan.seed, settings={**{k: getattr(settings, k) for k in keep},
                                                          **_reference_settings(reference),
                                                          "render_key": plan.joined_key, "lines": stored})
        write_take(joined, plan.joined_path, provenance, plan.choice, overwrite=overwrite or plan.joined_replace,
                   rendered=True)
    return plan.joined_path, records, joined.seconds


# ---- internals --------------------------------------------------------------------------------------------


def _check_all_speakable(engine: Engine, plan: ScriptPlan, reference: Optional[ReferenceVoice]) -> None:
    tokenizer = engine.pipeline.tokenizer_2
    for planned in plan.pending:
        words = normalize_text(planned.line.text)
        spoken = f"{reference.text} {words}" if reference is not None else words
        try:
            check_speakable(tokenizer, spoken, planned.line.text)
        except InputError as exc:
            raise InputError(f"script line {planned.line.number}: {exc}") from exc


def _rendered_with(path: Path, key: str, overwrite: bool) -> tuple[bool, bool]:
    """(done, ours): done when `path` holds an intact render with this key; ours (and not done) when its sidecar
    says it is that render but the audio is missing or damaged. Raises OutputExists when it holds something
    else (unless `overwrite`)."""
    sidecar = sidecar_path(path)
    if not os.path.lexists(path) and not os.path.lexists(sidecar):
        return False, False
    try:
        record = json.loads(sidecar.read_text())
        same = record.get("settings", {}).get("render_key") == key
    except (OSError, ValueError, AttributeError):
        record, same = {}, False
    if same:
        return (True, True) if _intact(path, record) else (False, True)
    if not overwrite:
        raise OutputExists(path if path.exists() else sidecar, hint=OVERWRITE_HINT)
    return False, False


def _intact(path: Path, record: dict) -> bool:
    """The audio reads, is as long as the sidecar says and (sidecars that record it) has the same sha256."""
    import soundfile as sf

    try:
        if not path.is_file():
            return False
        info = sf.info(str(path))
        seconds = record.get("seconds")
        if isinstance(seconds, (int, float)) and abs(info.frames / info.samplerate - seconds) > 0.02:  # cut short
            return False
        return "sha256" not in record or file_sha256(path) == record["sha256"]
    except Exception:  # noqa: BLE001 - any unreadable file is re-rendered, whatever the library raised
        return False


def _earlier_seed(paths: list[Path], name: str) -> Optional[int]:
    """The seed an earlier run of this script recorded in this folder (None if there was none)."""
    for path in paths:
        try:
            settings = json.loads(sidecar_path(path).read_text()).get("settings", {})
        except (OSError, ValueError, AttributeError):
            continue
        if settings.get("script") == name and isinstance(settings.get("script_seed"), int):
            return settings["script_seed"]
    return None


def _render_key(request: SpeechRequest, model: str, reference: Optional[ReferenceVoice], extension: str,
                subtype: Optional[str], rate: Optional[int] = None) -> str:
    fields = {"request": {k: getattr(request, k) for k in ("text", "voice", "negative_prompt", "steps", "guidance",
                                                           "seed", "candidates", "scheduler", "seconds")},
              "model": str(model), "extension": extension, "subtype": subtype, **_reference_settings(reference)}
    if rate is not None:  # only when chosen: files rendered before --rate existed still match
        fields["rate"] = rate
    if reference is not None:
        fields["reference_audio"] = hashlib.sha256(np.ascontiguousarray(reference.clip.samples).tobytes()).hexdigest()
    return _hash(fields)


def _reference_settings(reference: Optional[ReferenceVoice]) -> dict:
    return {} if reference is None else {"reference": reference.source, "reference_text": reference.text}


def _hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]
