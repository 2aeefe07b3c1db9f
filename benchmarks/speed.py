"""Our engine (its fast path) against the stock diffusers pipeline in fp32 eager, side by side in one process,
with the fidelity figures.

    python -m benchmarks.speed --device cuda --json speed-cuda.json --shapes base large
    python -m benchmarks.speed --device cpu --json speed-cpu.json      # reduced set, see CPU_DEFAULTS
    python -m benchmarks.speed --device cpu --steps 20 --repeats 2 --json OUT.json   # the CPU table in docs/developers.md
    python -m benchmarks.speed --model audioldm_48k --steps 3 --json OUT.json   # 48 kHz beside base (bench_48k.py)

Full-size pipelines from the official configs in resources/ with random weights (same compute as the real
checkpoints; built by benchmarks/bench_generate.py). Same prompt, negative prompt, seed and guidance everywhere:
  stock_defaults  stock pipeline, fp32, DDIM 200 steps, no negative prompt (skipped on CPU: minutes per clip)
  recipe          stock pipeline, fp32 eager, SDPA, DPM-Solver++ at --steps, negative prompt
  ours            Engine.generate at the same steps, a fresh prompt (prompt cache emptied before each run), on a
                  twin of the same pipeline (same weights) with the fast path: --precision (auto: per device and
                  stage, core.generation.precision) and --compile (auto: compiled bucket graphs where they pay)
  ours_reroll     the same request again with a new seed ("More like this"): prompt encoding comes from the cache
Compiling happens before the timed runs and is reported apart (compile_s); a second process start finds it in
inductor's on-disk cache. Fidelity: our final latents and waveform vs the stock fp32 pipeline's for identical
weights, seed, noise, scheduler and settings (relative L2; the bound is 1e-4 for an all-fp32 path and 1e-2 with
bf16/fp16 stages).
Each warm run also reports its stages (encode, decode, score, the rest: benchmarks/stage_clock.py) and the load
average before it, so a gap between paths can be pinned on a stage or on a busy machine.
"""

from __future__ import annotations

import argparse
import copy
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
from core.devices.compute import pick_device
from core.generation import precision as precision_mod
from core.generation import sampling
from core.generation.compiled import COMPILE_MODES
from core.generation.engine import Engine
from core.generation.requests import GenerationRequest

PROMPT = "a dog barking in the distance, rain on a tin roof"
NEGATIVE = "low quality, noise"
SEED = 0
GUIDANCE = 3.5
SHAPES = {"base": "audioldm2", "large": "audioldm2-large"}
CASES = {"one": (10.24, 1), "four": (10.24, 4), "long": (30.0, 1)}
CUDA_DEFAULTS = dict(steps=20, repeats=5, cases=["one", "four", "long"], fidelity_seconds=None)
# A 2-core CPU takes ~2.5 s per guided UNet step and ~11 s for VAE + vocoder on a 10.24 s clip (NOTES).
CPU_DEFAULTS = dict(steps=3, repeats=2, cases=["one"], fidelity_seconds=None)
STOCK_STEPS = 200  # diffusers' default for AudioLDM 2
FP32_BOUND, HALF_BOUND = 1e-4, 1e-2


def phase(message: str) -> None:
    """A timestamped line on stderr per phase: a long CPU run shows where it is (stdout carries the JSON)."""
    import sys

    print(f"[{time.strftime('%H:%M:%S')}] speed: {message} (load {load_average()})", file=sys.stderr, flush=True)


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


def relative_l2(ours, stock) -> float:
    ours, stock = torch.as_tensor(ours).float(), torch.as_tensor(stock).float()
    return float((ours - stock).norm() / stock.norm())


def fidelity(engine: Engine, seconds: float, candidates: int, steps: int, stock_pipe=None) -> dict:
    """Relative L2 of our final latents and waveform against the stock pipeline's (`stock_pipe`, default the
    engine's own), from the same starting noise; ours runs at the length the fast path renders (its bucket)."""
    pipe = engine.pipeline
    stock_pipe = stock_pipe or pipe
    request = our_request(seconds, candidates, steps).validated()
    engine.prompt_cache.clear()
    rendered, _ = engine.fast.render_seconds(seconds, plain=True)
    frames = sampling.latent_rows_for(pipe, rendered)
    ours, seeds, _ = engine.sample_latents(request, mel_frames=frames)
    noise = sampling.initial_noise(stock_pipe, seeds, frames, stock_pipe.device, stock_pipe.dtype)
    n_samples = int(round(rendered * 16000))
    with torch.inference_mode():
        stock = run_stock(stock_pipe, rendered, candidates, steps, "dpmsolver++", NEGATIVE, latents=noise,
                          output_type="latent")
        ours_wave = sampling.decode(pipe, ours, n_samples)
        stock_wave = sampling.decode(stock_pipe, stock.to(stock_pipe.dtype), n_samples)
    return {"relative_l2_latents": relative_l2(ours, stock), "relative_l2_waveform": relative_l2(ours_wave, stock_wave),
            "rendered_seconds": rendered}


def fast_twin(pipe, plan: precision_mod.StagePrecision):
    """A second pipeline on the same weights for our engine: the UNet, VAE and vocoder copied (the fast path
    casts and wraps them in place), the text encoders shared unless the plan runs them in another dtype."""
    twin = copy.copy(pipe)
    for name in ("unet", "vae", "vocoder"):
        twin.__dict__[name] = copy.deepcopy(getattr(pipe, name))
    if plan.text != pipe.dtype:
        for name in ("text_encoder", "text_encoder_2", "language_model", "projection_model"):
            twin.__dict__[name] = copy.deepcopy(getattr(pipe, name)).to(plan.text)
    return twin


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
    alike instead of whichever happened to run last. `clock(name)` gives a stage_clock for the per-stage split."""
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
                with clock(name) as stages:
                    out[name][1].append(timed_once(paths[name], device))
                out[name][3].append(dict(stages))
            memory = out[name][2]
            for key, value in peak_memory(device).items():  # per path on CUDA; RSS is the process high-water mark
                memory[key] = max(memory.get(key, 0.0), value) if isinstance(value, (int, float)) else value
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
               fidelity_seconds: float | None, stock_pipe=None) -> dict:
    """The recipe (stock fp32 eager on `stock_pipe`), ours and ours re-rolled for one case, plus the fidelity
    figures (stock defaults: bench_shapes)."""
    seconds, candidates = CASES[case]
    pipe = engine.pipeline
    stock_pipe = stock_pipe or pipe
    audio = seconds * candidates
    out = {"case": case, "audio_seconds": seconds, "candidates": candidates, "steps": steps,
           "stock_defaults": {"skipped": "stock defaults (fp32, DDIM 200 steps) take minutes per clip on this "
                                         "device; not run"}}
    short = device.type != "cuda"
    size = lambda warm: (1.0, 1) if warm and short else (seconds, steps)  # noqa: E731  (clip s, steps)
    seeds = iter(range(SEED + 100, SEED + 100 + 10 * (repeats + 1), 10))

    def recipe(warm):
        with torch.inference_mode():
            run_stock(stock_pipe, size(warm)[0], candidates, size(warm)[1], "dpmsolver++", NEGATIVE)

    def fresh(warm):
        engine.prompt_cache.clear()
        with expect_cache(engine, hit=False):
            engine.generate(our_request(size(warm)[0], candidates, size(warm)[1]))

    def reroll(warm):  # the cache holds this prompt from `fresh` (its key ignores seed, steps and length)
        with expect_cache(engine, hit=True):
            engine.generate(our_request(size(warm)[0], candidates, size(warm)[1], next(seeds)))

    paths = {"recipe": recipe, "ours": fresh, "ours_reroll": reroll}
    clock = lambda name: stage_clock(stock_pipe if name == "recipe" else pipe, engine, sync)  # noqa: E731
    phase(f"case {case}: warm-ups and {repeats} rounds of recipe / ours / re-roll")
    timings = interleaved(paths, device, repeats, short, clock=clock)
    out["recipe"] = {"dtype": str(stock_pipe.dtype), "scheduler": "dpmsolver++", "path": "stock pipeline, eager",
                     **summary(audio, *timings["recipe"])}
    out["ours"] = {"path": engine.fast.describe(), "prompt_cache": "emptied before each run",
                   "rendered_seconds": engine.fast.render_seconds(seconds, plain=True)[0],
                   **summary(audio, *timings["ours"])}
    out["ours_reroll"] = {"prompt_cache": "hit (same prompt, new seed)", **summary(audio, *timings["ours_reroll"])}
    out["ratio_ours_over_recipe"] = round(out["ours"]["median_s"] / out["recipe"]["median_s"], 3)
    out["ratio_reroll_over_recipe"] = round(out["ours_reroll"]["median_s"] / out["recipe"]["median_s"], 3)
    fid_seconds = fidelity_seconds or seconds
    phase(f"case {case}: fidelity pass ({fid_seconds} s, {steps} steps)")
    figures = fidelity(engine, fid_seconds, candidates, steps, stock_pipe)
    bound = HALF_BOUND if engine.fast.plan.reduced or pipe.dtype != torch.float32 else FP32_BOUND
    worst = max(figures["relative_l2_latents"], figures["relative_l2_waveform"])
    out["fidelity"] = {**figures, "bound": bound, "within_bound": worst <= bound, "audio_seconds": fid_seconds,
                       "candidates": candidates, "steps": steps}
    return out


def bench_shapes(shapes: str, device: torch.device, steps: int, repeats: int, cases: list[str],
                 fidelity_seconds: float | None, pipeline_factory=None, stock_steps: int | None = None,
                 precision: str = "auto", compile: str | None = None, low_vram: bool = False) -> dict:
    """All cases for one model shape. `pipeline_factory(dtype)` builds the pipeline (tests pass a tiny one);
    `stock_steps` runs the stock defaults with that many DDIM steps (default: 200 on CUDA, skipped elsewhere).
    The stock pipeline stays fp32 eager; ours is its twin with the fast path (`precision`, `compile`)."""
    factory = pipeline_factory or (lambda dtype: random_pipeline(SHAPES[shapes], device, dtype))
    stock_steps = stock_steps or (STOCK_STEPS if device.type == "cuda" else None)
    sync(device)
    t0 = time.perf_counter()
    phase(f"building the {shapes} pipeline (fp32)")
    pipe = factory(torch.float32)
    pipe.set_progress_bar_config(disable=True)
    sync(device)
    load_s = time.perf_counter() - t0
    result = {"shapes": shapes, "load_s": round(load_s, 2), "cases": []}
    stock = {}
    for c in cases if stock_steps else ():
        seconds, candidates = CASES[c]
        reset_peak(device)
        # One warm run: 200 fp32 steps cost ~22 s per 10.24 s clip on an H100 (NOTES).
        w, runs = timed(lambda warm: run_stock(pipe, seconds, candidates, stock_steps, "ddim", None), device, 1)
        stock[c] = {"dtype": "float32", "scheduler": "ddim", "steps": stock_steps,
                    **summary(seconds * candidates, w, runs, device)}
    plan = precision_mod.resolve(precision, device)
    phase(f"ours: a twin with {plan.describe()}; compiling its graphs if the fast path compiles")
    t0 = time.perf_counter()
    engine = Engine.from_pipeline(fast_twin(pipe, plan), f"random:{shapes}", precision=precision,
                                  compile=compile, background_compile=True, low_vram=low_vram)
    engine.fast.wait()  # the 10.24 s bucket's graph, compiled (or read from the disk cache) before any timing
    result["fast_path_setup_s"] = round(time.perf_counter() - t0, 2)
    for c in cases:
        seconds, candidates = CASES[c]
        if engine.fast.active:  # this case's own graph (batch size, prompt length), compiled before the timed runs
            engine.generate(our_request(seconds, candidates, 1))
            engine.fast.wait()
        case = bench_case(engine, device, c, steps, repeats, fidelity_seconds, stock_pipe=pipe)
        if c in stock:
            case["stock_defaults"] = stock[c]
        result["cases"].append(case)
    result["fast_path"] = engine.fast.describe()
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    parser.add_argument("--json", type=Path, help="write the report here (atomically) as well as to stdout")
    parser.add_argument("--shapes", nargs="+", default=["base"], choices=sorted(SHAPES))
    parser.add_argument("--model", choices=["audioldm_48k"],
                        help="audioldm_48k: the 48 kHz model beside the base model on CPU (benchmarks/bench_48k.py)")
    parser.add_argument("--steps", type=int, help="solver steps for recipe and ours (CUDA 20; CPU 3)")
    parser.add_argument("--repeats", type=int, help="warm runs per path (CUDA 5; CPU 2)")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), help="CUDA: all; CPU: one")
    parser.add_argument("--precision", default="auto", choices=precision_mod.PRECISIONS,
                        help="our path's precision (auto: per device and stage)")
    parser.add_argument("--compile", default=None, choices=COMPILE_MODES,
                        help="our path's compiled bucket graphs (default: LOA_COMPILE, else auto)")
    parser.add_argument("--low-vram", action="store_true",
                        help="our path with model CPU offload (CUDA; a no-op with a note elsewhere): peak VRAM per path "
                             "is in each case's peak_vram_gb")
    parser.add_argument("--fidelity-seconds", type=float, default=None,
                        help="clip length of the fidelity pass (default: the case's own on CUDA, 10.24 on CPU)")
    args = parser.parse_args(argv)
    if args.model == "audioldm_48k":
        from benchmarks import bench_48k

        return bench_48k.main(["--steps", str(args.steps or CPU_DEFAULTS["steps"])]
                              + (["--json", str(args.json)] if args.json else []))
    device = pick_device(args.device)
    defaults = CUDA_DEFAULTS if device.type == "cuda" else CPU_DEFAULTS
    steps = args.steps or defaults["steps"]
    repeats = args.repeats or defaults["repeats"]
    cases = args.cases or defaults["cases"]
    report = run(device, args.shapes, steps, repeats, cases, args.fidelity_seconds or defaults["fidelity_seconds"],
                 precision=args.precision, compile=args.compile, low_vram=args.low_vram)
    print_and_save(report, args.json)
    return report


def run(device: torch.device, shapes: list[str], steps: int, repeats: int, cases: list[str],
        fidelity_seconds: float | None, pipeline_factory=None, stock_steps: int | None = None,
        precision: str = "auto", compile: str | None = None, low_vram: bool = False) -> dict:
    from core.quiet import quiet_libraries

    quiet_libraries()
    reduced = device.type != "cuda"
    report = {"benchmark": "speed", "device": str(device), "torch": torch.__version__,
              "machine": platform.machine(), "cpu_threads": torch.get_num_threads(),
              "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
              "prompt": PROMPT, "negative_prompt": NEGATIVE, "seed": SEED, "guidance": GUIDANCE,
              "steps": steps, "warm_runs_per_path": repeats,
              "reduced_set": ("CPU: fewer steps and warm runs (paths interleaved run by run, order rotated each round), 10.24 s case only by default, stock defaults "
                              f"{'skipped' if not stock_steps else f'at {stock_steps} steps'}, warm-up is a 1 s 1-step run")
              if reduced else "stock defaults: 1 warm run per case (200 fp32 steps)",
              "peak_rss_note": "peak RSS is the process high-water mark so far, not per case",
              "results": []}
    for name in shapes:
        report["results"].append(bench_shapes(name, device, steps, repeats, cases, fidelity_seconds,
                                              pipeline_factory, stock_steps, precision, compile, low_vram))
    return report


if __name__ == "__main__":
    main()
