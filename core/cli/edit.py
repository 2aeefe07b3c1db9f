"""`loa edit IN [IN ...] (-o OUT | --out-dir DIR) OPERATIONS...`: the waveform editor's operations from a script, and
`loa edit IN... --measure`: integrated loudness, true peak and sample peak.

Each input is read, edited by the operations in the order given (core.editing, the window's own operations) and
written atomically in its source's format ("same as source", core.audio.formats.export.resolve: a 24-bit FLAC stays a
24-bit FLAC; a lossy source becomes 32-bit float WAV) unless --format/--bit-depth or -o's extension say otherwise.
Inputs are independent: a bad one is reported in one line and the others are still written (exit 2 if any failed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Optional

from core.audio.clip import Clip, load_clip, save_clip
from core.audio.formats.containers import CONTAINERS
from core.audio.formats.export import ExportSettings, container_for_extension, resolve
from core.audio.formats.source import clipping_warning, source_container, source_file_settings
from core.editing.gain import DEFAULT_TRUE_PEAK_DBTP
from core.editing.splice import JOIN_CROSSFADE_SECONDS
from core.errors import InputError, LoaError
from core.output_checks import check_output_paths
from core.wording import counted

from .common import add_format_flags, print_lines
from .edit_steps import Step, add_step_flags, apply_step, check_steps, worth_saying


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "edit", help="edit audio files (trim, fades, gain, normalise, resample, ...) or measure their loudness",
        usage="loa edit IN [IN ...] (-o OUT | --out-dir DIR) OPERATIONS... [--format F] [--bit-depth B] "
              "[--overwrite] [--measure] [--json]\n       loa edit IN [IN ...] --measure [--json]",
        description="Apply the editor's operations to each input, in the order given, and write the result in the "
                    "input's format (container, bit depth, rate and channels unless an operation changes them). "
                    "Times are seconds; ranges are A:B (A: or A:end to the end). Each range is read against the "
                    "audio at its step. Example: loa edit take.wav -o out.wav --trim 1.5:8 --fade-out 0.5 "
                    "--normalize-loudness -16. With --measure (and no operations) nothing is written: integrated "
                    "loudness, true peak and sample peak are printed for each input.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="IN",
                   help="audio files (WAV, FLAC, AIFF, Ogg, MP3...), before the flags")
    where = p.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", type=Path, default=None, metavar="OUT",
                       help="output file, for one input (no extension: the source's format's)")
    where.add_argument("--out-dir", type=Path, default=None, metavar="DIR",
                       help="output folder (created if needed): each input's name, with its output format's extension")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing output files (never an input); without it they are refused")
    p.add_argument("--true-peak", type=float, default=None, metavar="DBTP",
                   help=f"true-peak ceiling for --normalize-loudness (default {DEFAULT_TRUE_PEAK_DBTP:g} dBTP)")
    p.add_argument("--crossfade", type=float, default=JOIN_CROSSFADE_SECONDS, metavar="SECONDS",
                   help=f"crossfade at the joins of --delete/--silence/--insert-silence (default "
                        f"{JOIN_CROSSFADE_SECONDS:g}; 0: off)")
    p.add_argument("--measure", action="store_true",
                   help="print integrated loudness (LUFS), true peak (dBTP) and sample peak (dBFS); with operations, "
                        "of each result")
    p.add_argument("--json", action="store_true", help="print one JSON object per file instead of text")
    add_step_flags(p)
    add_format_flags(p, "the outputs", same_as_source=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    steps: list[Step] = args.steps
    true_peak = DEFAULT_TRUE_PEAK_DBTP if args.true_peak is None else args.true_peak
    choice = _check_usage(args, steps, true_peak)
    failed, planned = 0, {}
    for source in args.inputs:
        try:
            if steps:
                _edit_one(source, steps, args, choice, true_peak, planned)
            else:
                print_lines([_report(source, measure(_measured(source)), args.json)])
        except LoaError as exc:
            if not isinstance(exc, InputError):
                raise
            failed += 1
            print(f"loa: error: {source}: {exc}", file=sys.stderr)
    if failed and len(args.inputs) > 1:
        print(f"loa: {counted(failed, 'input')} of {len(args.inputs)} failed; the others were "
              f"{'written' if steps else 'measured'}.", file=sys.stderr)
    return 2 if failed else 0


def _check_usage(args: argparse.Namespace, steps: list[Step], true_peak: float) -> ExportSettings:
    """Everything that does not depend on a file, once, before any is read (exit 2, one line)."""
    from core.audio.formats.take import for_path, take_choice

    if not steps and not args.measure:
        raise InputError("nothing to do: give operations (e.g. --normalize-loudness -16, see --help) or --measure.")
    if not steps and (args.output or args.out_dir or args.format or args.bit_depth or args.overwrite):
        raise InputError("--measure alone writes nothing; drop -o/--out-dir/--format/--bit-depth/--overwrite, or "
                         "add operations.")
    if args.true_peak is not None and not any(s.name == "normalize_loudness" for s in steps):
        raise InputError("--true-peak is the ceiling of --normalize-loudness; add --normalize-loudness LUFS, or "
                         "drop it.")
    if steps and args.output is None and args.out_dir is None:
        raise InputError("say where to write: -o OUT (one input) or --out-dir DIR; inputs are never replaced.")
    if args.output is not None and len(args.inputs) > 1:
        raise InputError(f"-o names one file but {len(args.inputs)} inputs were given; use --out-dir DIR.")
    if args.output is not None:
        _check_output_name(args.output)
    if not (0 <= args.crossfade <= 1):
        raise InputError(f"--crossfade must be from 0 (off) to 1 s; got {args.crossfade:g}.")
    choice = take_choice(args.format, args.bit_depth, flags=True)
    if args.output is not None and args.output.suffix:
        named = container_for_extension(args.output.suffix)
        if args.format is not None and named is not None and args.format != named:
            raise InputError(f"-o {args.output.name} and --format {args.format} disagree; drop one of them.")
        choice = for_path(choice, args.output)  # the container follows the name; refused if it cannot hold the choice
    if args.out_dir is not None:  # a file, a read-only folder...: one line, not one per input
        check_output_paths([args.out_dir / ".loa-folder-check.wav"], overwrite=True)
    check_steps(steps, args.crossfade, true_peak)
    return choice


def _check_output_name(output: Path) -> None:
    """-o must name a file: not standard output, not a device/pipe (`/dev/null` would become `/dev/null.wav`),
    not a folder (checked before the extension is added)."""
    if str(output) == "-":
        raise InputError("writing audio to standard output (-) is not supported; name a file, e.g. -o take.wav.")
    if output.is_dir():
        raise InputError(f"-o {output} is a folder; name a file inside it, or use --out-dir {output}.")
    if os.path.exists(output) and not output.is_file():
        raise InputError(f"{output} is not a regular file (a device, pipe or socket); give a file name.")


def _output_path(source: Path, args: argparse.Namespace, choice: ExportSettings,
                 source_settings: dict[str, str]) -> Path:
    """-o as given (no extension: the output format's), or DIR/<input's name>.<output format's extension>."""
    container = choice.container or source_container(source_settings)
    extension = CONTAINERS[container].extension
    if args.output is not None:
        return args.output if args.output.suffix else args.output.with_name(args.output.name + extension)
    return args.out_dir / (source.stem + extension)


def _edit_one(source: Path, steps: list[Step], args: argparse.Namespace, choice: ExportSettings, true_peak: float,
              planned: dict[Path, Path]) -> None:
    source_settings = source_file_settings(source)  # (the file's header, read once)
    out = _output_path(source, args, choice, source_settings)
    check_output_paths([out], overwrite=args.overwrite, inputs=args.inputs)  # before the work, not after
    key = out.resolve()
    if key in planned:
        raise InputError(f"{planned[key]} is already written to {out} by this run; give the inputs different "
                         "names or edit them in separate runs.")
    clip = load_clip(source)
    if clip.repaired_samples:  # the output differs from the file there: say so, as continue and inpaint do
        print(f"loa: note: {source}: {counted(clip.repaired_samples, 'NaN or infinite sample')} "
              f"{'was' if clip.repaired_samples == 1 else 'were'} replaced by silence.", file=sys.stderr)
    operations = []
    for step in steps:
        try:
            result = apply_step(clip, step, args.crossfade, true_peak)
        except InputError as exc:
            raise InputError(f"{step.describe()}: {exc}") from None
        if worth_saying(result.note):
            print(f"loa: note: {source}: {step.describe()}: {result.note}", file=sys.stderr)
        clip = result.clip
        operations.append(result.operation)
    resolved = resolve(clip, source_settings, choice)
    fmt = resolved.settings.sample_format
    warning = clipping_warning(clip, fmt) if resolved.notes else ""  # (resolve found it already; only to label it)
    for note in resolved.notes:
        print(f"loa: {'warning' if note == warning else 'note'}: {out}: {note}", file=sys.stderr)
    save_clip(clip, out, subtype=fmt, overwrite=args.overwrite)
    planned[key] = source
    if args.json:
        record = {"path": str(out), "input": str(source), "format": resolved.describe(),
                  "seconds": round(clip.seconds, 6), "sample_rate": clip.sample_rate, "channels": clip.channels,
                  "operations": operations}
        if args.measure:
            record.update(measure(clip))
        print_lines([json.dumps(record)])
    elif args.measure:
        print_lines([_report(out, measure(clip), False)])
    else:
        print_lines([str(out)])


def _measured(source: Path) -> Clip:
    clip = load_clip(source)
    if clip.repaired_samples:
        print(f"loa: note: {source}: {counted(clip.repaired_samples, 'NaN or infinite sample')} "
              f"{'was' if clip.repaired_samples == 1 else 'were'} measured as silence.", file=sys.stderr)
    return clip


def measure(clip: Clip) -> dict[str, Optional[float]]:
    """Integrated loudness (LUFS; None under 0.4 s, for a layout BS.1770 does not weigh, or silence), true peak
    (dBTP) and sample peak (dBFS); None stands for -inf (silence)."""
    import numpy as np

    from core.audio.downmix import LAYOUTS
    from core.editing.gain import gain_to_db
    from core.editing.measure import LOUDNESS_BLOCK_SECONDS, integrated_loudness, peaks_over

    lufs = None
    if clip.frames > int(LOUDNESS_BLOCK_SECONDS * clip.sample_rate) and clip.channels in LAYOUTS:
        value = integrated_loudness(clip.samples, clip.sample_rate)
        lufs = round(value, 2) if np.isfinite(value) else None
    level = {"integrated_lufs": lufs}
    sample_peak, true_peak = peaks_over(clip.samples, 0.0)  # both from one pass over the clip
    for key, linear in (("true_peak_dbtp", true_peak), ("sample_peak_dbfs", sample_peak)):
        level[key] = round(gain_to_db(linear), 2) if linear > 0 else None
    return {**level, "seconds": round(clip.seconds, 6), "sample_rate": clip.sample_rate, "channels": clip.channels}


def _report(path: Path, level: dict, as_json: bool) -> str:
    if as_json:
        return json.dumps({"path": str(path), **level})
    if level["integrated_lufs"] is not None:
        lufs = f"{level['integrated_lufs']:.1f} LUFS"
    elif level["sample_peak_dbfs"] is None:
        lufs = "silent"
    else:
        lufs = "n/a LUFS (under 0.4 s)" if level["seconds"] <= 0.4 else "n/a LUFS (below the gate or no layout)"
    peaks = [f"{level[key]:.1f} {unit}" if level[key] is not None else f"-inf {unit}"
             for key, unit in (("true_peak_dbtp", "dBTP"), ("sample_peak_dbfs", "dBFS"))]
    return f"{path}: {lufs} integrated, {peaks[0]} true peak, {peaks[1]} sample peak"
