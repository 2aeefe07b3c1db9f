"""The 48 kHz AudioLDM model beside the 16 kHz AudioLDM 2 base model: time per 10.24 s clip and peak RSS, as JSON.

    python -m benchmarks.bench_48k --steps 3 --json OUT.json      # both models, each in its own subprocess
    python -m benchmarks.speed --model audioldm_48k ...            # the same thing, from the speed benchmark

Both models at FULL-SIZE shapes with random weights (same compute as the real checkpoints, nothing downloaded,
nothing saved): the base model from the official cvssp/audioldm2 configs (bench_generate.random_pipeline); the
48 kHz model as the converter lays it out: an original-format state dict at the real widths (the AudioLDM 2
repository's get_audioldm_48k_config, get_vocoder_config_48k, roberta-base CLAP text branch; key names from
tests/tiny_original_audioldm.py), read by core.models.original_format.infer_architecture and built component by
component by core.models.original_convert.build_component (the converter's own code path).

Each model runs in a separate subprocess so its peak RSS is its own; the peak is also taken for generation alone
(VmHWM reset after the build through /proc/self/clear_refs). Same prompt, negative prompt, seed, guidance, steps,
candidates 1 and DPM-Solver++ for both; our engine runs the pipeline as built (fp32, eager: the CPU fast path's
bf16 stages and compiled graphs are not measured here). Per run: end to end through Engine.generate plus stages
(encode, denoise with its per-step figure, VAE decode, vocoder, ranking). For the 48 kHz model the stock diffusers
AudioLDMPipeline (fp32 eager, same weights) is timed too, with the relative L2 of our final latents against its.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import torch

from benchmarks.bench_generate import WEIGHTS_SEED
from benchmarks.stage_clock import stage_clock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

PROMPT = "a dog barking in the distance, rain on a tin roof"
NEGATIVE = "low quality, noise"
SEED, GUIDANCE, SECONDS = 0, 3.5, 10.24
MODELS = ("audioldm2", "audioldm_48k")
# The 48 kHz model's widths (AudioLDM 2 repository: audioldm2/utils.py get_audioldm_48k_config and
# get_vocoder_config_48k; the CLAP text branch is roberta-base with a 768 -> 512 -> 512 projection).
FULL_48K = dict(unet=dict(mc=128, mult=(1, 2, 3, 5), res=2, attn=(8, 4, 2), sites=2),
                vae=dict(ch=128, mult=(1, 2, 4, 8), res=2, z=16),
                vocoder=dict(initial=1536, rb_kernels=(3, 7, 11, 15)),
                text=dict(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1, hidden_size=768,
                          num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072), projection=(768, 512))


def _scaled(*shape) -> torch.Tensor:
    """A random tensor scaled by its fan-in (activations stay in range through a full-depth network)."""
    fan_in = max(1, int(torch.Size(shape[1:]).numel())) if len(shape) > 1 else 1
    return torch.randn(*shape) * (fan_in ** -0.5 if len(shape) > 1 else 0.02)


@contextmanager
def _tensors(make):
    """tests/tiny_original_audioldm.py writes every tensor through `_t`: point it at `make` for the block."""
    import tiny_original_audioldm as orig

    old = orig._t
    orig._t = make
    try:
        yield orig
    finally:
        orig._t = old


def original_48k_state(device: str = "cpu", widths: dict = FULL_48K) -> dict:
    """An original-format state dict at the 48 kHz model's full widths; on "meta", shapes only (no memory)."""
    from transformers import RobertaConfig, RobertaModel

    make = (lambda *shape: torch.empty(*shape, device="meta")) if device == "meta" else _scaled
    with _tensors(make) as orig:
        state = {"scale_factor": torch.tensor(0.5)}
        state.update(orig.unet_state(**widths["unet"]))
        state.update(orig.vae_state(**widths["vae"]))
        state.update(orig.vocoder_state(**widths["vocoder"]))
    prefix = "cond_stage_models.0.model."
    with torch.device(device):
        roberta = RobertaModel(RobertaConfig(**widths["text"]))
    state.update({prefix + "text_branch." + k: v for k, v in roberta.state_dict().items()})
    hidden, proj = widths["projection"]
    for name, out, inp in (("text_projection.0", proj, hidden), ("text_projection.2", proj, proj)):
        state[f"{prefix}{name}.weight"] = make(out, inp)
        state[f"{prefix}{name}.bias"] = torch.zeros(out, device=device)
    return state


def random_48k_pipeline(device: torch.device = torch.device("cpu"), dtype: torch.dtype = torch.float32,
                        widths: dict = FULL_48K):
    """The full-size 48 kHz AudioLDMPipeline with random weights, built by the converter's own code (never saved);
    tests pass smaller `widths`."""
    from diffusers import AudioLDMPipeline
    from tiny_original_audioldm import roberta_tokenizer

    from core.models import original_convert as conv
    from core.models.original_format import UNET, VAE, VOCODER, infer_architecture
    from core.quiet import quiet_model_libraries

    quiet_model_libraries()
    # Seeded like bench_generate.random_pipeline: a fidelity figure depends on the draw (unseeded, the CPU auto
    # plan's 48 kHz waveform read 0.0194 and 0.0099 from stock in two runs; docs/developers.md).
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(WEIGHTS_SEED)
        state = original_48k_state(widths=widths)
    arch = infer_architecture(state)
    parts = {}
    owners = {"unet": UNET, "vae": VAE, "vocoder": VOCODER, "text_encoder": arch.text.prefix}
    for name in conv.COMPONENTS:
        parts[name] = conv.build_component(name, state, arch, roberta_tokenizer())
        for key in [k for k in state if name in owners and k.startswith(owners[name])]:
            del state[key]  # copied into the component: the build peaks at one component over the state
    for name in ("unet", "vae", "vocoder", "text_encoder"):
        parts[name].eval()
    return AudioLDMPipeline(**parts).to(device=device, dtype=dtype)


def _peak_rss_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) * 1024 / 1e9, 3)
    return float("nan")


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: resets VmHWM to the current RSS
        return True
    except OSError:
        return False


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


# Stages for the AudioLDMPipeline: its text encoding is `_encode_prompt`; the VAE and the vocoder apart
STAGES_48K = (("pipe", "encode_prompt", "encode"), ("pipe", "_encode_prompt", "encode"),
              ("vae", "decode", "vae_decode"), ("pipe", "mel_spectrogram_to_waveform", "vocoder"),
              ("engine", "rank", "ranking"))


def _request(steps: int, seconds: float = SECONDS):
    from core.generation.requests import GenerationRequest

    return GenerationRequest(PROMPT, negative_prompt=NEGATIVE, seconds=seconds, steps=steps, guidance=GUIDANCE,
                             seed=SEED, candidates=1, scheduler="dpmsolver++")


def _stock_48k(pipe, engine, steps: int) -> dict:
    """The stock AudioLDMPipeline (fp32 eager, same weights) timed at the same settings, and our final latents
    against its from the same starting noise (its final latents read through its step callback)."""
    from core.generation import sampling

    request = _request(steps).validated()
    frames = sampling.latent_rows_for(pipe, SECONDS)
    engine.prompt_cache.clear()
    ours, seeds, _ = engine.sample_latents(request, mel_frames=frames)
    noise = sampling.initial_noise(pipe, seeds, frames, pipe.device, pipe.dtype)
    final = {}
    pipe.scheduler = sampling.make_scheduler(pipe, "dpmsolver++", steps)
    print(f"[{time.strftime('%H:%M:%S')}] bench_48k: stock AudioLDMPipeline", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    with torch.inference_mode():
        pipe(PROMPT, negative_prompt=NEGATIVE, num_inference_steps=steps, audio_length_in_s=SECONDS,
             guidance_scale=GUIDANCE, latents=noise, callback=lambda i, t, lat: final.update(latents=lat.clone()),
             callback_steps=1)
    elapsed = time.perf_counter() - t0
    stock = final["latents"].float()
    return {"path": "diffusers AudioLDMPipeline, fp32 eager", "seconds": round(elapsed, 3), "uptime": _uptime(),
            "relative_l2_latents_ours_vs_stock": float((ours.float() - stock).norm() / stock.norm())}


def measure(model: str, steps: int, stock: bool) -> dict:
    """One model in this process: build, one short warm-up, one timed 10.24 s clip, stages, peak RSS."""
    from benchmarks.bench_generate import random_pipeline
    from core.generation import sampling
    from core.generation.engine import Engine
    from core.quiet import quiet_libraries

    quiet_libraries()
    t0 = time.perf_counter()
    cpu = torch.device("cpu")
    pipe = random_48k_pipeline(cpu) if model == "audioldm_48k" else random_pipeline("audioldm2", cpu, torch.float32)
    pipe.set_progress_bar_config(disable=True)
    build_s = time.perf_counter() - t0
    params = sum(p.numel() for part in ("unet", "vae", "vocoder", "text_encoder", "text_encoder_2", "language_model",
                                        "projection_model") if getattr(pipe, part, None) is not None
                 for p in getattr(pipe, part).parameters())
    out = {"model": model, "shapes": "full size, random weights", "sample_rate": sampling.sample_rate(pipe),
           "parameters_m": round(params / 1e6, 1), "build_s": round(build_s, 1), "peak_rss_after_build_gb": _peak_rss_gb()}
    engine = Engine.from_pipeline(pipe, f"random:{model}")  # as built: fp32, eager
    engine.generate(_request(1, 1.0))  # warm-up: allocator, kernels (a 1 s, 1-step clip)
    reset = _reset_peak_rss()
    engine.prompt_cache.clear()
    print(f"[{time.strftime('%H:%M:%S')}] bench_48k: {model} timed run", file=sys.stderr, flush=True)
    out["uptime_before"] = _uptime()
    with stage_clock(pipe, engine, targets=STAGES_48K) as stages:
        t0 = time.perf_counter()
        engine.generate(_request(steps))
        total = time.perf_counter() - t0
    out["uptime_after"] = _uptime()
    denoise = total - sum(stages.values())
    out.update({"steps": steps, "end_to_end_s": round(total, 3), "realtime_factor": round(SECONDS / total, 3),
                "stages_s": {**{k: round(v, 3) for k, v in stages.items()}, "denoise_and_rest": round(denoise, 3)},
                "denoise_per_step_s": round(denoise / steps, 3),
                "extrapolated_20_steps_s": round(total - denoise + 20 * denoise / steps, 1),
                "peak_rss_generate_gb": _peak_rss_gb() if reset else None,
                "peak_rss_process_gb": round(__import__("resource").getrusage(0).ru_maxrss * 1024 / 1e9, 3)})
    if stock:  # the engine's figures first, on stderr: a long stock run cut short does not lose them
        print(json.dumps(out), file=sys.stderr, flush=True)
        out["stock"] = _stock_48k(pipe, engine, steps)
    return out


def run(steps: int, models=MODELS, stock: bool = True) -> dict:
    """Each model in its own nice'd subprocess (its own peak RSS), one after the other."""
    report = {"benchmark": "bench_48k", "device": "cpu", "torch": torch.__version__, "machine": platform.machine(),
              "cpu_threads": torch.get_num_threads(), "prompt": PROMPT, "negative_prompt": NEGATIVE, "seed": SEED,
              "guidance": GUIDANCE, "steps": steps, "candidates": 1, "audio_seconds": SECONDS,
              "engine_path": "as built: fp32 eager (the fast path's bf16 stages and compiled graphs not measured)",
              "note": f"figures at {steps} steps; 'extrapolated_20_steps_s' is extrapolated from the per-step figure, "
                      "not measured. A shared, loaded machine: see each run's uptime.", "results": []}
    for model in models:
        cmd = [sys.executable, "-m", "benchmarks.bench_48k", "--one", model, "--steps", str(steps)]
        if not stock:
            cmd.append("--no-stock")
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        sys.stderr.write(done.stderr[-2000:])
        if done.returncode:
            report["results"].append({"model": model, "failed": done.stderr.strip().splitlines()[-1:]})
        else:
            report["results"].append(json.loads(done.stdout.strip().splitlines()[-1]))
    return report


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="solver steps (default 3 on this CPU; see the note)")
    parser.add_argument("--json", type=Path, help="also write the report here (atomically)")
    parser.add_argument("--no-stock", action="store_true", help="skip the stock AudioLDMPipeline run (48 kHz)")
    parser.add_argument("--one", choices=MODELS, help=argparse.SUPPRESS)  # the per-model subprocess
    args = parser.parse_args(argv)
    if args.one:
        result = measure(args.one, args.steps, stock=not args.no_stock and args.one == "audioldm_48k")
        print(json.dumps(result))
        return result
    from benchmarks.json_report import print_and_save

    report = run(args.steps, stock=not args.no_stock)
    print_and_save(report, args.json)
    return report


if __name__ == "__main__":
    main()
