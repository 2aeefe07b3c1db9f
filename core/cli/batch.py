"""`loa batch JOBS.csv --out DIR`: render a prompt list, resumably, here or on a Ray cluster (core.batch)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core import signals
from core.devices.compute import DEVICES, PRECISION_ENV, PRECISIONS
from core.errors import InputError, LoaError, ModelNotAvailable
from core.wording import counted

from .common import add_format_flags, format_choice, print_lines


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "batch", help="render a CSV/JSONL list of prompts into a folder (resumable; optional Ray cluster)",
        description="Render every row of a job file (CSV or JSONL: prompt, negative, seconds or bars+bpm, count, "
                    "seed or seed range, model, steps, guidance, mode, words, voice, output pattern; other columns "
                    "go into the metadata). The whole file is checked first. Files land atomically with a "
                    "manifest line each (OUT/manifest.jsonl); a rerun renders only what is missing or changed.")
    p.add_argument("jobs", type=Path, help="job file (.csv, or .jsonl with one JSON object per line)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created if needed)")
    p.add_argument("--ray", default=None, metavar="auto|ADDRESS",
                   help="render on Ray: `auto` starts a local Ray instance, ADDRESS (e.g. 10.0.0.5:6379) joins a "
                        "running cluster; needs `pip install loa-studio[cluster]`")
    p.add_argument("--cpus-per-worker", type=int, default=1,
                   help="Ray without GPUs: CPU cores per worker (one worker per slot; default 1)")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="numeric precision per stage on every worker (default auto: the fastest that keeps fidelity "
                        "on each worker's device)")
    p.add_argument("--low-vram", action="store_true", default=None,
                   help="model CPU offload on CUDA GPUs with 4-6 GB: one model on the GPU at a time, slower "
                        "(ignored with a note on a CPU)")
    p.add_argument("--model", default=None, help="model for rows without a model column (default: by mode)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="variations per denoising batch (default: memory-safe for the device)")
    p.add_argument("--dry-run", action="store_true", help="list what would be rendered, render nothing")
    p.add_argument("--skip-bad", action="store_true", help="render the good rows even if some rows are bad")
    p.add_argument("--overwrite", action="store_true",
                   help="replace files in --out that have an output's name but are not in its manifest (files "
                        "this batch wrote are re-rendered without it when their row changed)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    add_format_flags(p, "the files")
    p.set_defaults(func=run_with_precision)


def run_with_precision(args: argparse.Namespace) -> int:
    """`run` with --precision and --low-vram as the defaults of every engine of the run (local, or Ray workers
    started here)."""
    from core.generation.low_vram import ENV as LOW_VRAM_ENV

    chosen = {PRECISION_ENV: args.precision, LOW_VRAM_ENV: "1" if getattr(args, "low_vram", None) else None}
    previous = {k: os.environ.get(k) for k in chosen}
    for key, value in chosen.items():
        if value:
            os.environ[key] = value
    try:
        return run(args)
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(args: argparse.Namespace) -> int:
    from core.batch.jobs import read_jobs
    from core.batch.plan import plan_batch
    from core.batch.runner import StopFlag, batch_lock, run_plan

    if args.cpus_per_worker < 1:
        raise InputError("--cpus-per-worker must be at least 1.")
    if args.batch_size is not None and not 1 <= args.batch_size <= 16:
        raise InputError("--batch-size must be a whole number from 1 to 16.")
    if args.ray:
        from core.batch.ray_pool import check_address, import_ray

        import_ray()  # without the extra: exit 2 with how to install it, before anything else
        check_address(args.ray)
    job = read_jobs(args.jobs, default_model=args.model, output_format=format_choice(args))
    for note in job.notes:
        print(f"loa: note: {args.jobs}: {note}", file=sys.stderr)
    for error in job.errors:
        print(f"loa: {args.jobs}: {error}", file=sys.stderr)
    if job.errors and not args.skip_bad:
        only_missing = all(e.missing_model for e in job.errors)
        cls = ModelNotAvailable if only_missing else InputError
        raise cls(f"{counted(len(job.errors), 'bad row')} in {args.jobs}; nothing was rendered (fix them, or pass "
                  "--skip-bad to render the good rows).")
    if not job.rows:
        raise InputError(f"no good rows in {args.jobs}; nothing to render.")
    device = _device(args.device)
    if args.dry_run:
        plan = _plan(plan_batch, args, job, device, write=False)
        print_lines([f"{args.out / path}\tline {unit.row.line}\tseed {seed}"
                     for unit in plan.units for path, seed in zip(unit.paths(), unit.seeds)])
        print(f"loa: dry run: {counted(plan.pending_files, 'file')} to render, {plan.done_files} already done, "
              f"{counted(len(job.errors), 'bad row')} skipped.", file=sys.stderr)
        return 0
    with batch_lock(args.out):
        plan = _plan(plan_batch, args, job, device)
        stop = StopFlag()
        show = _progress(args)
        with signals.stop_requests(lambda signum: _stop_after_files_in_flight(stop, signum)):
            stats = run_plan(plan, stop, ray=args.ray, device=args.device, cpus_per_worker=args.cpus_per_worker,
                             on_progress=show)
    if show is not None and plan.units:
        print(file=sys.stderr)
    summary = (f"{stats.rendered} rendered, {stats.already_done} already done, {stats.done}/{stats.total} "
               f"files in {args.out}; {stats.audio_seconds:.1f} s of audio in {stats.elapsed:.1f} s "
               f"({stats.files_per_minute:.1f} files/min, {stats.audio_per_second:.2f} audio s/s)")
    if job.errors:
        summary += f"; {counted(len(job.errors), 'bad row')} skipped"
    if plan.skipped:
        summary += f"; {counted(len(plan.skipped), 'file')} left out (not ours)"
    if (stats.stopped or stop()) and stats.done < stats.total:
        print(f"loa: stopped: {summary}. Run the same command again to resume.", file=sys.stderr)
        return signals.exit_code(stop.signum) if stop.signum else 130  # as every other command
    print(f"loa: batch done: {summary}.", file=sys.stderr)
    return 0


def _plan(plan_batch, args: argparse.Namespace, job, device: str, write: bool = True):
    """The plan, with each output it may not write reported on its own line (`line N: ...`)."""
    from core.batch.plan import PlanProblems

    try:
        plan = plan_batch(job, args.out, device, args.batch_size, write=write, overwrite=args.overwrite,
                          skip_bad=args.skip_bad)
    except PlanProblems as exc:
        for line in exc.lines:
            print(f"loa: {args.jobs}: {line}", file=sys.stderr)
        raise InputError(f"{counted(len(exc.lines), 'output')} in {args.out} cannot be written; nothing was "
                         "rendered (rename those outputs, pass --overwrite, or --skip-bad to render the rest).") \
            from None
    for line in plan.skipped:
        print(f"loa: {args.jobs}: {line} (left out)", file=sys.stderr)
    return plan


def _device(device: str) -> str:
    from core.devices.compute import pick_device

    try:
        return pick_device(device).type
    except LoaError:
        raise
    except Exception:  # noqa: BLE001 - only used to size batches
        return "cpu"


def _progress(args: argparse.Namespace):
    if args.quiet:
        return None
    tty = sys.stderr.isatty()

    def show(stats) -> None:
        print(("\r" if tty else "") + "batch " + stats.line(), end="" if tty else "\n", file=sys.stderr, flush=True)

    return show


def _stop_after_files_in_flight(stop, signum: int) -> None:
    """The first Ctrl+C (or SIGTERM): finish the files in flight, then stop. A second one aborts at once (core.signals;
    files still land whole or not at all)."""
    stop.set(signum)
    print("\nloa: stopping after the files in flight (Ctrl+C again to abort now)...", file=sys.stderr, flush=True)
