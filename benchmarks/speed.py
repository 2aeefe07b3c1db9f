"""Our engine against the stock diffusers pipeline, side by side in one process, with the fidelity figure.

    python -m benchmarks.speed --device cuda --json speed-cuda.json --shapes base large
    python -m benchmarks.speed --device cpu --json speed-cpu.json      # reduced set, see CPU_DEFAULTS

Full-size pipelines from the official configs in resources/ with random weights (same compute as the real
checkpoints; built by benchmarks/bench_generate.py). Same prompt, negative prompt, seed and guidance everywhere:
  stock_defaults  stock pipeline, fp32, DDIM 200 steps, no negative prompt (skipped on CPU: minutes per clip)
  recipe          stock pipeline, fp16 on CUDA / fp32 elsewhere, SDPA, DPM-Solver++ at --steps, negative prompt
  ours            Engine.generate at the same steps, a fresh prompt (prompt cache emptied before each run)
  ours_reroll     the same request again with a new seed ("More like this"): prompt encoding comes from the cache
Fidelity: our final latents vs the stock pipeline's for identical weights, seed, noise, scheduler and settings
(relative L2; the bound is 1e-4 in fp32 and 1e-2 in fp16/bf16).
Each warm run also reports its stages (encode, decode, score, the rest: benchmarks/stage_clock.py) and the load
average before it, so a gap between paths can be pinned on a stage or on a busy machine.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import torch

from benchmarks.bench_generate import peak_memory, random_pipeline, sync
from benchmarks.json_report import print_and_save
from benchmarks.stage_clock import load_average, stage_clock
from core.generation import sampling
from core.generation.engine import Engine
from core.generation.requests import GenerationRequest
from core.models.loading import pick_device, pick_dtype

PROMPT = "a dog barking in the distance, rain on a tin roof"
NEGATIVE = "low quality, noise"
SEED = 0
GUIDANCE = 3.5
SHAPES = {"base": "audioldm2", "large": "audioldm2-large"}
CASES = {"one": (10.24, 1), "four": (10.24, 4), "long": (30.0, 1)}
CUDA_DEFAULTS = dict(steps=20, repeats=5, cases=["one", "four", "long"], fidelity_seconds=None)
# A 2-core CPU takes ~2.5 s per guided UNet step and ~11 s for VAE + vocoder on a 10.24 s clip (NOTES).
CPU_DEFAULTS = dict(steps=3, repeats=2, cases=["one"], fidelity_seconds=2.0)
STOCK_STEPS = 200  # diffusers' default for AudioLDM 2
FP32_BOUND, HALF_BOUND = 1e-4, 1e-2


def stock_scheduler(pipe, name: str, steps: int):
    """The scheduler both sides use: the engine's choice for `steps` (the official config, DPM-Solver++ or DDIM)."""
    return sampling.make_scheduler(pipe, name, steps)


def run_stock(pipe, seconds: float, candidates: int, steps: int, scheduler: str, negative: str | None,
              latents: torch.Tensor | None = None, output_type: str = "np"):
    pipe.scheduler = stock_scheduler(pipe, scheduler, steps)
    generator = torch.Generator("cpu").manual_seed(SEED)
    return pipe(PROMPT, negative_prompt=negative, num_inference_steps=steps, audio_length_in_s=seconds,
                num_waveforms_per_prompt=candidates, guidance_scale=GUIDANCE, generator=generator,
                latents=latents, output_type=output_type).audios


def our_request(seconds: float, candidates: int, steps: int, seed: int = SEED) -> GenerationRequest:
    return GenerationRequest(PROMPT, negative_prompt=NEGATIVE, seconds=seconds, steps=steps, guidance=GUIDANCE,
                             seed=seed, candidates=candidates, scheduler="dpmsolver++")


def fidelity(engine: Engine, seconds: float, candidates: int, steps: int) -> float:
    """Relative L2 between our final latents and the stock pipeline's, from the same starting noise."""
    pipe = engine.pipeline
    request = our_request(seconds, candidates, steps).validated()
    engine.prompt_cache.clear()
    ours, seeds, _ = engine.sample_latents(request)
    noise = sampling.initial_noise(pipe, seeds, sampling.latent_rows_for(pipe, seconds), pipe.device, pipe.dtype)
    with torch.inference_mode():
        stock = run_stock(pipe, seconds, candidates, steps, "dpmsolver++", NEGATIVE, latents=noise,
                          output_type="latent")
    return float((ours.float() - stock.float()).norm() / stock.float().norm())


def timed(fn: Callable[..., object], device: torch.device, repeats: int,
          short_warmup: bool = False) -> tuple[float, list[float]]:
    """(warm-up seconds, warm run seconds): the first call pays one-time costs and is reported apart.
    `fn(warmup)` gets True for that first call; with `short_warmup` the caller makes it a short, 1-step run
    (the CPU set: kernels and allocator warmed without paying a whole clip twice)."""
    sync(device)
    t0 = time.perf_counter()
    fn(short_warmup)
    sync(device)
    warmup = time.perf_counter() - t0
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(False)
        sync(device)
        runs.append(time.perf_counter() - t0)
    return warmup, runs


def round_order(names: list[str], round_index: int) -> list[str]:
    """The paths' order in round `round_index`: rotated each round, so no path always runs right after the
    same other one (or first, when the machine is quietest after the warm-ups)."""
    k = round_index % len(names)
    return names[k:] + names[:k]


def interleaved(paths: dict, device: torch.device, repeats: int, short_warmup: bool,
                clock: Callable[[], object] | None = None) -> dict:
    """{name: (warm-up s, [run s], peak memory, [stage seconds per run], [load average per run])}: paths take
    turns run by run, in an order rotated every round, so a load change on a shared machine hits all of them
    alike instead of whichever happened to run last. `clock()` gives a stage_clock for the per-stage split."""
    out = {}
    for name, fn in paths.items():
        out[name] = (timed(fn, device, 0, short_warmup)[0], [], {}, [], [])
    for r in range(repeats):
        for name in round_order(list(paths), r):
            reset_peak(device)
            out[name][4].append(load_average())
            if clock is None:
                out[name][1].append(timed_once(paths[name], device))
            else:
                with clock() as stages:
                    out[name][1].append(timed_once(paths[name], device))
                out[name][3].append(dict(stages))
            memory = out[name][2]
            for key, value in peak_memory(device).items():  # per path on CUDA; RSS is the process high-water mark
                memory[key] = max(memory.get(key, 0.0), value)
    return out


def timed_once(fn: Callable[..., object], device: torch.device) -> float:
    sync(device)
    t0 = time.perf_counter()
    fn(False)
    sync(device)
    return time.perf_counter() - t0


def summary(audio_seconds: float, warmup: float, runs: list[float], memory: dict | torch.device,
            stages: list[dict] | None = None, loads: list | None = None) -> dict:
    memory = peak_memory(memory) if isinstance(memory, torch.device) else memory
    median = statistics.median(runs)
    out = {"median_s": round(median, 3), "min_s": round(min(runs), 3), "runs_s": [round(r, 3) for r in runs],
           "warm_runs": len(runs), "warmup_s": round(warmup, 3),
           "realtime_factor": round(audio_seconds / median, 3), **memory}
    if stages:
        # Per run: encode / decode / score seconds and the rest (denoising loop and glue), summing to the run.
        per_run = [{**{k: round(v, 3) for k, v in st.items()}, "denoise_and_rest": round(run - sum(st.values()), 3)}
                   for st, run in zip(stages, runs)]
        out["stages_runs_s"] = per_run
        out["stages_median_s"] = {k: round(statistics.median(r[k] for r in per_run), 3) for k in per_run[0]}
    if loads:
        out["load_average_1min"] = loads
    return out


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()


@contextmanager
def expect_cache(engine: Engine, hit: bool):
    """Fails the benchmark when a path did not meet the prompt cache as its name says (fresh: a miss and the
    encoders ran; re-roll: a hit and they did not)."""
    hits, misses = engine.prompt_cache.hits, engine.prompt_cache.misses
    yield
    got_hit = engine.prompt_cache.hits == hits + 1 and engine.prompt_cache.misses == misses
    if got_hit != hit:
        raise RuntimeError(f"benchmark fault: expected a prompt cache {'hit' if hit else 'miss'}")


def bench_case(engine: Engine, device: torch.device, case: str, steps: int, repeats: int,
               fidelity_seconds: float | None) -> dict:
    """The recipe, ours and ours re-rolled for one case, plus the fidelity figure (stock defaults: bench_shapes)."""
    seconds, candidates = CASES[case]
    pipe = engine.pipeline
    audio = seconds * candidates
    out = {"case": case, "audio_seconds": seconds, "candidates": candidates, "steps": steps,
           "stock_defaults": {"skipped": "stock defaults (fp32, DDIM 200 steps) take minutes per clip on this "
                                         "device; not run"}}
    short = device.type != "cuda"
    size = lambda warm: (1.0, 1) if warm and short else (seconds, steps)  # noqa: E731  (clip s, steps)
    seeds = iter(range(SEED + 100, SEED + 100 + 10 * (repeats + 1), 10))

    def recipe(warm):
        with torch.inference_mode():
            run_stock(pipe, size(warm)[0], candidates, size(warm)[1], "dpmsolver++", NEGATIVE)

    def fresh(warm):
        engine.prompt_cache.clear()
        with expect_cache(engine, hit=False):
            engine.generate(our_request(size(warm)[0], candidates, size(warm)[1]))

    def reroll(warm):  # the cache holds this prompt from `fresh` (its key ignores seed, steps and length)
        with expect_cache(engine, hit=True):
            engine.generate(our_request(size(warm)[0], candidates, size(warm)[1], next(seeds)))

    paths = {"recipe": recipe, "ours": fresh, "ours_reroll": reroll}
    timings = interleaved(paths, device, repeats, short, clock=lambda: stage_clock(pipe, engine, sync))
    out["recipe"] = {"dtype": str(pipe.dtype), "scheduler": "dpmsolver++",
                     **summary(audio, *timings["recipe"])}
    out["ours"] = {"path": "engine default (eager; no CUDA graph or compile in this version)",
                   "prompt_cache": "emptied before each run", **summary(audio, *timings["ours"])}
    out["ours_reroll"] = {"prompt_cache": "hit (same prompt, new seed)", **summary(audio, *timings["ours_reroll"])}
    out["ratio_ours_over_recipe"] = round(out["ours"]["median_s"] / out["recipe"]["median_s"], 3)
    out["ratio_reroll_over_recipe"] = round(out["ours_reroll"]["median_s"] / out["recipe"]["median_s"], 3)
    fid_seconds = fidelity_seconds or seconds
    rel = fidelity(engine, fid_seconds, candidates, steps)
    bound = FP32_BOUND if pipe.dtype == torch.float32 else HALF_BOUND
    out["fidelity"] = {"relative_l2_latents": rel, "bound": bound, "within_bound": rel <= bound,
                       "audio_seconds": fid_seconds, "candidates": candidates, "steps": steps}
    return out


def bench_shapes(shapes: str, device: torch.device, steps: int, repeats: int, cases: list[str],
                 fidelity_seconds: float | None, pipeline_factory=None, stock_steps: int | None = None) -> dict:
    """All cases for one model shape. `pipeline_factory(dtype)` builds the pipeline (tests pass a tiny one);
    `stock_steps` runs the stock defaults with that many DDIM steps (default: 200 on CUDA, skipped elsewhere)."""
    factory = pipeline_factory or (lambda dtype: random_pipeline(SHAPES[shapes], device, dtype))
    dtype = pick_dtype(device)
    stock_steps = stock_steps or (STOCK_STEPS if device.type == "cuda" else None)
    stock_defaults = stock_steps is not None
    sync(device)
    t0 = time.perf_counter()
    pipe = factory(torch.float32 if stock_defaults else dtype)
    pipe.set_progress_bar_config(disable=True)
    sync(device)
    load_s = time.perf_counter() - t0
    result = {"shapes": shapes, "load_s": round(load_s, 2), "cases": []}
    engine = Engine.from_pipeline(pipe, f"random:{shapes}")
    if stock_defaults:
        # (a) in fp32 for every case before the pipeline goes to the fast dtype.
        stock = {}
        for c in cases:
            seconds, candidates = CASES[c]
            reset_peak(device)
            # One warm run: 200 fp32 steps cost ~22 s per 10.24 s clip on an H100 (NOTES).
            w, runs = timed(lambda warm: run_stock(pipe, seconds, candidates, stock_steps, "ddim", None), device, 1)
            stock[c] = {"dtype": "float32", "scheduler": "ddim", "steps": stock_steps,
                        **summary(seconds * candidates, w, runs, device)}
        pipe.to(dtype=dtype)
        engine.dtype = dtype
    for c in cases:
        case = bench_case(engine, device, c, steps, repeats, fidelity_seconds)
        if stock_defaults:
            case["stock_defaults"] = stock[c]
        result["cases"].append(case)
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    parser.add_argument("--json", type=Path, help="write the report here (atomically) as well as to stdout")
    parser.add_argument("--shapes", nargs="+", default=["base"], choices=sorted(SHAPES))
    parser.add_argument("--steps", type=int, help="solver steps for recipe and ours (CUDA 20; CPU 3)")
    parser.add_argument("--repeats", type=int, help="warm runs per path (CUDA 5; CPU 2)")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), help="CUDA: all; CPU: one")
    args = parser.parse_args(argv)
    device = pick_device(args.device)
    defaults = CUDA_DEFAULTS if device.type == "cuda" else CPU_DEFAULTS
    steps = args.steps or defaults["steps"]
    repeats = args.repeats or defaults["repeats"]
    cases = args.cases or defaults["cases"]
    report = run(device, args.shapes, steps, repeats, cases, defaults["fidelity_seconds"])
    print_and_save(report, args.json)
    return report


def run(device: torch.device, shapes: list[str], steps: int, repeats: int, cases: list[str],
        fidelity_seconds: float | None, pipeline_factory=None, stock_steps: int | None = None) -> dict:
    from core.quiet import quiet_libraries

    quiet_libraries()
    reduced = device.type != "cuda"
    report = {"benchmark": "speed", "device": str(device), "torch": torch.__version__,
              "machine": platform.machine(), "cpu_threads": torch.get_num_threads(),
              "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
              "prompt": PROMPT, "negative_prompt": NEGATIVE, "seed": SEED, "guidance": GUIDANCE,
              "steps": steps, "warm_runs_per_path": repeats,
              "reduced_set": ("CPU: fewer steps and warm runs (paths interleaved run by run, order rotated each round), 10.24 s case only by default, stock defaults "
                              f"{'skipped' if not stock_steps else f'at {stock_steps} steps'}, warm-up is a 1 s 1-step run, fidelity on a shorter clip")
              if reduced else "stock defaults: 1 warm run per case (200 fp32 steps)",
              "peak_rss_note": "peak RSS is the process high-water mark so far, not per case",
              "results": []}
    for name in shapes:
        report["results"].append(bench_shapes(name, device, steps, repeats, cases, fidelity_seconds,
                                              pipeline_factory, stock_steps))
    return report


if __name__ == "__main__":
    main()
