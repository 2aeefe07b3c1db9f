"""`loa speak "TEXT"` and `loa speak --script FILE`: text-to-speech on the speech checkpoints."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from core.audio.clip import FORMATS
from core.audio.formats.export import container_for_extension
from core.audio.formats.take import extension_for, for_path, render_take
from core.audio.naming import clip_file_name
from core.audio.provenance import sidecar_path
from core.errors import InputError
from core.models.catalog import DEFAULT_MODEL_BY_TASK
from core.speech.defaults import DEFAULT_PAUSE_SECONDS, DEFAULT_VOICE

from .common import (
    add_format_flags,
    add_generation_flags,
    common_request_fields,
    format_choice,
    make_engine,
    print_lines,
    print_notes,
    progress_printer,
    write_result,
)

if TYPE_CHECKING:  # core.speech's models import torch: the functions below import them when the command runs
    from core.speech import SpeechRequest


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "speak", help="text-to-speech in a described voice, a voice from a recording, or a whole script",
        description="Speak text with a speech checkpoint. The duration follows the text unless --seconds is given. "
                    "With --reference, the new words are spoken in the voice of that recording. "
                    "With --script, each line of the file becomes one file, plus the whole script in one.")
    p.add_argument("text", nargs="?", help='the words to say, e.g. "Welcome back to the show."')
    p.add_argument("--voice", default=None,
                   help=f'speaker description (default "{DEFAULT_VOICE}"), e.g. "a female reporter is speaking '
                        'in a quiet studio"')
    p.add_argument("--preset", default=None, help="a speech preset's name: its voice, negative prompt, steps "
                                                  "and guidance (flags given explicitly still win)")
    p.add_argument("--reference", type=Path, default=None,
                   help="a recording of the voice to use (1-8 s of speech, any rate or channels)")
    p.add_argument("--reference-text", default=None, help="the words spoken in the reference recording")
    p.add_argument("--script", type=Path, default=None,
                   help="a script file: one utterance per line, optional [VOICE] tag; -o names the output folder")
    p.add_argument("--pause", type=float, default=DEFAULT_PAUSE_SECONDS,
                   help=f"script mode: seconds of silence between lines (default {DEFAULT_PAUSE_SECONDS}; "
                        "a blank line in the script doubles it)")
    p.add_argument("--seconds", type=float, default=None, help="duration (default: derived from the text)")
    add_generation_flags(p, default_model=DEFAULT_MODEL_BY_TASK["speech"], default_seconds=None)
    add_format_flags(p, "the takes (or the script's files)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.text is None and args.script is None:
        raise InputError('give the words to say ("TEXT") or a script file (--script FILE).')
    if args.text is not None and args.script is not None:
        raise InputError('give either the words to say ("TEXT") or --script FILE, not both.')
    if args.script is not None and args.seconds is not None:
        raise InputError("--seconds sets one line's length; in a script each line's length follows its words.")
    if (args.reference is None) != (args.reference_text is None):
        raise InputError("--reference and --reference-text go together: the recording and the words said in it.")
    from core.speech import ReferenceVoice

    settings = _settings(args)
    choice = format_choice(args)
    reference = ReferenceVoice.from_file(args.reference, args.reference_text) if args.reference else None
    if args.script is not None:
        return _run_script(args, settings, reference, choice)
    settings.generation_request()  # bad text or numbers exit 2 before the model loads
    extension = _take_extension(args, choice)
    engine = make_engine(args, inputs=[args.reference])
    from core.generation import tasks

    result = tasks.run(engine, tasks.Speak(settings, reference), progress=progress_printer(args))
    best = result.candidates[0]
    default_name = Path(clip_file_name(args.text, best.seed, extension, settings=best.settings))
    write_result(result, args, args.text, clips=[render_take(c.clip, choice) for c in result.candidates],
                 default_name=default_name, subtype=choice.sample_format)
    return 0


def _take_extension(args: argparse.Namespace, choice) -> str:
    """The take's extension: -o's, which must agree with --format, else --format's (default .wav); the file must
    hold the chosen bit depth and rate (checked before the model loads)."""
    extension = extension_for(choice)
    if args.output is not None and args.output.suffix:
        if choice.container is not None and container_for_extension(args.output.suffix) != choice.container:
            raise InputError(f"-o {args.output.name} and --format {choice.container} disagree; drop one of them.")
        extension = args.output.suffix
    for_path(choice, Path(f"take{extension}"))
    return extension


def _settings(args: argparse.Namespace) -> SpeechRequest:
    from core.speech import SpeechRequest

    fields = common_request_fields(args)
    voice = args.voice
    if args.preset:
        preset = _find_preset(args.preset)
        voice = voice if voice is not None else preset.prompt
        fields["negative_prompt"] = args.negative or preset.negative_prompt
        fields["steps"] = args.steps if args.steps is not None else preset.steps
        fields["guidance"] = args.guidance if args.guidance is not None else preset.guidance
    return SpeechRequest(text=args.text or "", voice=voice or DEFAULT_VOICE, seconds=args.seconds, **fields)


def _find_preset(name: str):
    from core.generation.presets import presets_for

    presets = presets_for("speech")
    for preset in presets:
        if preset.name.lower() == name.lower():
            return preset
    raise InputError(f"no speech preset named {name!r}; choose one of: {', '.join(p.name for p in presets)}.")


def _run_script(args: argparse.Namespace, settings: SpeechRequest, reference, choice) -> int:
    """Every line and file checked first; each line's file written as it completes; a rerun skips the lines
    already rendered with the same settings (core.speech.script_folder)."""
    from core.speech import read_script
    from core.speech.script_folder import plan_script, render_plan

    script = read_script(args.script, settings.voice, args.pause)
    folder = args.output if args.output is not None else Path(args.script.stem)
    if folder.suffix.lower() in (*FORMATS, ".json") and not folder.is_dir():  # (a folder may be `my.episode`)
        raise InputError(f"-o for a script names the folder its files go into, but {folder} is named like a "
                         f"{folder.suffix} file; e.g. -o {folder.with_suffix('')}/")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"-o for a script names the folder its files go into, but {folder} is a file; "
                         "choose a folder name.")
    plan = plan_script(script, settings, folder, args.script.stem, args.model, reference=reference,
                       overwrite=args.overwrite, extension=extension_for(choice), subtype=choice.sample_format,
                       rate=choice.sample_rate, inputs=[args.script, args.reference])
    done = len(plan.lines) - len(plan.pending)
    if done:
        seed_note = f" (seed {plan.seed} from the earlier run)" if plan.seed_from_earlier_run else ""
        print(f"loa: note: {done} of {len(plan.lines)} lines are already rendered with these settings in "
              f"{folder}; rendering the other {len(plan.pending)}{seed_note}.", file=sys.stderr)
    engine = make_engine(args, check=False) if plan.pending else None

    def line_done(planned, result) -> None:
        if result is not None:
            print_notes(result, f"line {planned.line.number}: ")

    joined, records, seconds = render_plan(engine, plan, settings, reference=reference, on_line=line_done,
                                           progress=progress_printer(args), overwrite=args.overwrite)
    if args.json:
        first = json.loads(sidecar_path(joined).read_text())
        print_lines([json.dumps({"path": str(joined), "seconds": round(seconds, 6), "seed": plan.seed,
                                 "model": first["model_id"], "licence": first["licence"],
                                 "lines": [{"path": r["path"], "line": r["line"], "start": r["start"],
                                            "rendered": r["rendered"]} for r in records]})])
    else:
        print_lines([str(joined)] + [r["path"] for r in records])
    return 0
