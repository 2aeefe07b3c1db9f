"""Flags and helpers shared by every generating command (generate, continue, inpaint, loop, speak)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from core.audio.clip import output_format
from core.audio.naming import clip_file_name, numbered_paths
from core.audio.provenance import save_takes, sidecar_path
from core.devices.compute import DEVICES, PRECISIONS
from core.errors import LoaError
from core.generation.defaults import DEFAULT_SCHEDULER, SCHEDULERS, SOUND, defaults_for, defaults_for_task
from core.generation.progress import Progress
from core.models.catalog import CATALOG, DEFAULT_MODEL
from core.output_checks import check_output_paths

if TYPE_CHECKING:  # the engine imports torch: only the commands that run a model load it (see make_engine)
    from core.generation.engine import Engine, GenerationResult


def add_generation_flags(parser: argparse.ArgumentParser, default_model: str = DEFAULT_MODEL,
                         default_seconds: Optional[float] = SOUND.seconds) -> None:
    g = parser.add_argument_group("generation")
    g.add_argument("-o", "--output", type=Path, help="output file (.wav, .flac, .ogg); K candidates: OUT-1..K")
    g.add_argument("--model", default=default_model,
                   help=f"catalog id ({', '.join(CATALOG)}), a local folder, or an original-format AudioLDM "
                        f"checkpoint (.pth, converted once) (default {default_model})")
    if default_seconds is not None:
        g.add_argument("--seconds", type=float, default=default_seconds, help="duration in seconds")
    base = defaults_for_task(CATALOG[default_model].task if default_model in CATALOG else "sound")
    g.add_argument("--steps", type=int, default=None, help=f"denoising steps (default from the model, {base.steps})")
    g.add_argument("--guidance", type=float, default=None,
                   help=f"classifier-free guidance scale (default from the model, {base.guidance:g})")
    g.add_argument("--negative", default="", help="negative prompt: what to steer away from")
    g.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    g.add_argument("--candidates", type=int, default=1, help="number of takes, ranked by CLAP score")
    g.add_argument("--scheduler", choices=SCHEDULERS, default=DEFAULT_SCHEDULER)
    g.add_argument("--device", choices=DEVICES, default="auto")
    g.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="numeric precision per stage (default auto: bf16 on CPUs with AVX-512 BF16, fp16 on CUDA, "
                        "fp32 elsewhere; LOA_PRECISION sets another default)")
    g.add_argument("--low-vram", action="store_true", default=None,
                   help="model CPU offload for CUDA GPUs with 4-6 GB: one model on the GPU at a time, slower "
                        "(ignored with a note on a CPU; LOA_LOW_VRAM=1 sets it by default)")
    g.add_argument("--overwrite", action="store_true",
                   help="replace existing output files (never the input recording); without it they are refused")
    g.add_argument("--json", action="store_true", help="print one JSON object per written file")
    g.add_argument("--quiet", action="store_true", help="no progress on stderr")


def add_format_flags(parser: argparse.ArgumentParser, what: str, same_as_source: bool = False) -> None:
    """--format, --bit-depth, --rate: the Export dialog's formats for files a command names itself (`what`).
    `same_as_source`: the files are edits of the user's files, so the defaults are the source's and no --rate."""
    from core.audio.formats.containers import CONTAINERS

    container, depth = ("the source file's", "the source's") if same_as_source else ("wav", "16-bit")
    g = parser.add_argument_group("output format (the same choices as the window's Export dialog)")
    g.add_argument("--format", choices=list(CONTAINERS), default=None,
                   help=f"container of {what} without an extension in their name (default {container})")
    g.add_argument("--bit-depth", type=_bit_depth_arg, default=None, metavar="16|24|32|float",
                   help=f"sample format of WAV, FLAC and AIFF files (default {depth}); lossy formats have none")
    if same_as_source:
        return
    g.add_argument("--rate", type=int, default=None, metavar="HZ",
                   help="resample the written files to this rate, e.g. 44100 or 48000 (default: the model's)")


def _bit_depth_arg(value: str) -> str:
    from core.audio.formats.take import bit_depth
    from core.errors import InputError

    try:
        return bit_depth(value)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def format_choice(args: argparse.Namespace):
    """The checked core.audio.formats.export.ExportSettings of --format/--bit-depth/--rate (InputError: exit 2)."""
    from core.audio.formats.take import take_choice

    return take_choice(args.format, args.bit_depth, args.rate, flags=True)


def model_defaults(model: str) -> tuple[int, float]:
    """Steps and guidance for a model (core.generation.defaults.defaults_for)."""
    defaults = defaults_for(model)
    return defaults.steps, defaults.guidance


def common_request_fields(args: argparse.Namespace) -> dict:
    steps, guidance = model_defaults(args.model)
    return dict(negative_prompt=args.negative, steps=args.steps if args.steps is not None else steps,
                guidance=args.guidance if args.guidance is not None else guidance, seed=args.seed,
                candidates=args.candidates, scheduler=args.scheduler)


def make_engine(args: argparse.Namespace, inputs: Sequence[Optional[Path]] = (), check: bool = True) -> Engine:
    """The engine for --model/--device, after `check_outputs` (unless `check` is False because the command
    checked its own outputs), so bad input costs no model work. `inputs`: files the output must never replace."""
    if check:
        check_outputs(args, getattr(args, "candidates", 1) or 1, inputs)
    from core import signals

    with signals.starting():  # nothing to lose yet: a signal ends at once, as at start-up
        import core.generation.engine  # noqa: F401 - torch: imported only once the input has passed every check
    from core.generation.engine_cache import EngineCache

    engine = EngineCache(args.device).get(args.model)  # the one engine cache (memory budget, LOA_MODEL_MEMORY)
    # One-shot: compiled graphs only when an earlier run cached them on disk (core.generation.compiled).
    engine.choose_fast_path(getattr(args, "precision", None), background_compile=False,
                            low_vram=getattr(args, "low_vram", None))
    engine.resolved  # fail fast (exit 3) before any work when the model is missing
    return engine


def check_outputs(args: argparse.Namespace, count: int, inputs: Sequence[Path] = (),
                  default_folder: Path = Path(".")) -> None:
    """Before any model work: the -o name (and each OUT-k with several candidates, and every sidecar) can be
    written, is not an input, and exists only with --overwrite. Without -o the folder is checked; the name
    is chosen free at write time."""
    # Every file argument is an input (today --input, --reference, --script; any future command's too), so no
    # command can forget to protect one.
    inputs = [Path(p) for p in inputs if p is not None] + [
        value for key, value in vars(args).items() if isinstance(value, Path) and key != "output"]
    if args.output is None:
        check_output_paths([default_folder / ".loa-folder-check.wav"], overwrite=True, inputs=())
        return
    check_output_paths([args.output], overwrite=True, inputs=inputs)  # a folder, bad parent, long name...
    output_format(args.output)
    paths = numbered_paths(args.output, count)
    check_output_paths([p for path in paths for p in (path, sidecar_path(path))], overwrite=args.overwrite,
                       inputs=inputs)


def progress_printer(args: argparse.Namespace):
    """A progress callback drawing one updating line on stderr when it is a terminal."""
    if getattr(args, "quiet", False) or not sys.stderr.isatty():
        return None

    def show(p: Progress) -> None:
        end = "\n" if p.stage == "scoring" and p.step == p.total else ""
        print(f"\r{p.stage:>9} {p.step}/{p.total}   ", end=end, file=sys.stderr, flush=True)

    return show


def write_result(result: GenerationResult, args: argparse.Namespace, default_name_prompt: str,
                 clips=None, default_name: Optional[Path] = None, subtype: Optional[str] = None) -> list[Path]:
    """Write every candidate (best first) as one set, then print each path, or a JSON object with --json.

    `clips` replaces the candidates' audio when a command post-processes it (for example joining generated
    audio onto the user's clip); scores and seeds still come from `result`. All files (audio and sidecars) land
    together before anything is printed, so `| head -1` or Ctrl+C cannot leave a partial set. A name the user
    did not choose is made free (`stem-2`...) rather than refused.
    """
    print_notes(result)
    clips = clips or [c.clip for c in result.candidates]
    if args.output is not None:
        paths = numbered_paths(args.output, len(result.candidates))
    else:
        out = default_name or Path(clip_file_name(default_name_prompt, result.candidates[0].seed,
                                                           settings=result.candidates[0].settings))
        paths = free_numbered_paths(out, len(result.candidates))
    takes = [(clip, path, result.provenance(candidate))
             for path, candidate, clip in zip(paths, result.candidates, clips)]
    save_takes(takes, subtype=subtype, overwrite=args.overwrite and args.output is not None)
    lines = []
    for path, candidate, clip in zip(paths, result.candidates, clips):
        if args.json:
            lines.append(json.dumps({"path": str(path), "score": candidate.score, "seed": candidate.seed,
                                     "rank": candidate.rank + 1, "model": result.model_id, "licence": result.licence,
                                     "seconds": round(clip.seconds, 6), "sample_rate": clip.sample_rate,
                                     "settings": candidate.settings}))
        else:
            lines.append(str(path))
    print_lines(lines)
    return paths


def print_notes(result: GenerationResult, where: str = "") -> None:
    """What the user should know about a result (a prompt cut to the model's window), one stderr line each."""
    for note in result.notes:
        print(f"loa: note: {where}{note}", file=sys.stderr)


def free_numbered_paths(out: Path, count: int) -> list[Path]:
    """numbered_paths(out), or of `stem-2`, `stem-3`... when any of those files or sidecars exists."""
    number, candidate = 1, out
    while any(os.path.lexists(p) or os.path.lexists(sidecar_path(p)) for p in numbered_paths(candidate, count)):
        number += 1
        candidate = out.with_name(f"{out.stem}-{number}{out.suffix}")
    return numbered_paths(candidate, count)


def print_lines(lines: Sequence[str]) -> None:
    """Print to stdout; a reader that went away (`| head -1`) or a closed stdout (`>&-`) is not an error: the
    files are already written. Stdout that cannot take the lines (`>/dev/full`, an I/O error) is one line on
    stderr, exit 2, saying the files were written."""
    if sys.stdout is None:  # started with stdout closed: nobody asked for the lines
        return
    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_to_nothing()
    except OSError as exc:
        _stdout_to_nothing()
        from core.fileio import committed_files

        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        written = [str(p) for p in committed_files() if not str(p).endswith(".json")]
        shown = ", ".join(written[:3]) + (f" and {len(written) - 3} more" if len(written) > 3 else "")
        raise StdoutUnwritable(f"cannot print to standard output ({reason})"
                               + (f"; the files were written: {shown}." if written else ".")) from None


class StdoutUnwritable(LoaError):
    """Standard output refused the lines (full, I/O error): exit 2, and the command stops there (not one line per
    remaining input)."""

    exit_code = 2


def _stdout_to_nothing() -> None:
    """Python would complain again when it flushes stdout at exit: point stdout at nothing instead."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
