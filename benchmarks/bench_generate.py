"""Speed and memory of text-to-audio generation through the LOA engine, as JSON.

Full-size shapes with random weights (same compute as the real checkpoints, no download):
    python benchmarks/bench_generate.py --shapes audioldm2 --device cuda --seconds 10.24 --steps 20 --candidates 1 4
A real installed model instead:
    python benchmarks/bench_generate.py --model cvssp/audioldm2 --device cuda
Writes the JSON to stdout and, with --out, to a file (benchmarks/results/ is git-ignored).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from benchmarks.json_report import print_and_save  # noqa: E402
from core.devices.compute import pick_device, pick_dtype  # noqa: E402
from core.generation.engine import Engine  # noqa: E402
from core.generation.requests import SCHEDULERS, GenerationRequest  # noqa: E402
from core.quiet import quiet_libraries  # noqa: E402

CONFIGS = REPO / "resources" / "official-configs"
WEIGHTS_SEED = 0


def random_pipeline(shapes: str, device: torch.device, dtype: torch.dtype):
    """The official architecture of `shapes` with random weights; tokenizers trained offline."""
    from diffusers import AudioLDM2Pipeline, AutoencoderKL, DDIMScheduler
    from diffusers.pipelines.audioldm2 import AudioLDM2ProjectionModel, AudioLDM2UNet2DConditionModel
    from tiny_pipeline import _train_tokenizers
    from transformers import (
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        GPT2Config,
        GPT2LMHeadModel,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
        T5Config,
        T5EncoderModel,
    )

    folder = CONFIGS / shapes
    cfg = lambda part, name="config.json": json.loads((folder / part / name).read_text())  # noqa: E731
    roberta, t5 = _train_tokenizers()
    clap_cfg = cfg("text_encoder")
    clap_cfg.pop("torch_dtype", None)
    # Seeded weights: every run (and every benchmark) measures the same network; the waveform's distance from
    # fp32 depends on the draw (unseeded full-size runs gave 0.0130 and 0.0136 where seed 0 gives 0.0089).
    with torch.random.fork_rng(devices=[]), torch.device(device):
        torch.manual_seed(WEIGHTS_SEED)
        parts = dict(
            unet=AudioLDM2UNet2DConditionModel.from_config(cfg("unet")),
            vae=AutoencoderKL.from_config(cfg("vae")),
            text_encoder=ClapModel(ClapConfig(**clap_cfg)),
            text_encoder_2=T5EncoderModel(T5Config(**cfg("text_encoder_2"))),
            language_model=GPT2LMHeadModel(GPT2Config(**cfg("language_model"))),
            projection_model=AudioLDM2ProjectionModel.from_config(cfg("projection_model")),
            vocoder=SpeechT5HifiGan(SpeechT5HifiGanConfig(**cfg("vocoder"))),
        )
    pipe = AudioLDM2Pipeline(
        **parts, tokenizer=roberta, tokenizer_2=t5,
        scheduler=DDIMScheduler.from_config(cfg("scheduler", "scheduler_config.json")),
        feature_extractor=ClapFeatureExtractor(**cfg("feature_extractor", "preprocessor_config.json")))
    pipe.language_model.config.max_new_tokens = 8
    for part in parts.values():
        part.eval()  # constructors leave modules in training mode: dropout would make every run differ
    return pipe.to(device=device, dtype=dtype)


def peak_memory(device: torch.device) -> dict:
    rss_unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is bytes on macOS, KiB on Linux
    from core.generation.low_vram import peak_vram

    out = {"peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * rss_unit / 1e9, 3)}
    return out | peak_vram(device)  # peak_vram_gb on CUDA; "absent: ..." elsewhere


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--shapes", default="audioldm2", choices=["audioldm2", "audioldm2-large", "audioldm2-music"])
    source.add_argument("--model", help="an installed model id or folder instead of random weights")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seconds", type=float, default=10.24)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--candidates", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--scheduler", default="dpmsolver++", choices=SCHEDULERS)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    quiet_libraries()

    device = pick_device(args.device)
    started = time.perf_counter()
    if args.model:
        engine = Engine(args.model, device=args.device)
        engine.load()
    else:
        engine = Engine.from_pipeline(random_pipeline(args.shapes, device, pick_dtype(device)),
                                      f"random:{args.shapes}")
    sync(device)
    load_s = time.perf_counter() - started

    runs = []
    for k in args.candidates:
        request = GenerationRequest("a dog barking in the distance", negative_prompt="low quality",
                                    seconds=args.seconds, steps=args.steps, candidates=k, seed=0,
                                    scheduler=args.scheduler)
        engine.generate(request)  # warm-up: kernels, caches, allocator
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()  # each run reports its own peak
        timings = []
        for _ in range(args.repeats):
            sync(device)
            t0 = time.perf_counter()
            engine.generate(request)
            sync(device)
            timings.append(time.perf_counter() - t0)
        best = min(timings)
        runs.append({"candidates": k, "seconds_per_request": round(best, 3), "all_runs": [round(t, 3) for t in timings],
                     "realtime_factor": round(args.seconds * k / best, 2), **peak_memory(device)})

    report = {"benchmark": "generate", "source": args.model or f"random:{args.shapes}", "device": str(device),
              "dtype": str(engine.dtype), "torch": torch.__version__, "machine": platform.machine(),
              "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None,
              "audio_seconds": args.seconds, "steps": args.steps, "scheduler": args.scheduler,
              "load_seconds": round(load_s, 2), "runs": runs, **peak_memory(device)}
    print_and_save(report, args.out)


if __name__ == "__main__":
    main()
