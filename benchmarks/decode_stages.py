"""The decode stages alone (VAE decoder, vocoder) per precision variant: time and fidelity against fp32 eager.

    python -m benchmarks.decode_stages --json OUT.json                 # full-size audioldm2 shapes, 10.24 s clip
    python -m benchmarks.decode_stages --repeats 3 --latent-error 0.0036

Full-size VAE and vocoder from the official configs with random weights (seeded), one clip of `--seconds`.
Variants say which parts stay fp32 inside a bf16 stage (core.generation.precision.apply_vae / apply_vocoder do
the same for the engine): the VAE's `tail` (last norm + conv), its last resnet or its whole last up block; the
vocoder's `post` conv, or its last one or two upsampling stages (upsampler + resblocks) with the post conv.
Reported per variant: seconds per run (variants take turns run by run; min and median), relative L2 of the stage's
own output against fp32 (the vocoder fed the fp32 mel), and the waveform's relative L2 for every VAE x vocoder
pairing against the all-fp32 chain, also from latents carrying a `--latent-error` relative perturbation (what a
bf16 UNet leaves: 0.0036 measured at 20 steps), since that is what the speed benchmark's 1e-2 bound sees.
The auto plan's own choice (`precision.resolve("auto", "cpu", cpu_bf16=True)`) is one of the rows, `auto`.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from benchmarks.bench_generate import CONFIGS
from benchmarks.json_report import print_and_save
from benchmarks.stage_clock import load_average
from core.generation import precision

BF16 = torch.bfloat16
VAE_VARIANTS = ("fp32", "bf16", "bf16_tail", "bf16_lastres", "bf16_lastblock")
VOCODER_VARIANTS = ("fp32", "bf16", "bf16_post", "bf16_last1", "bf16_last2")


def build(shapes: str = "audioldm2", seed: int = 0):
    from diffusers import AutoencoderKL
    from transformers import SpeechT5HifiGan, SpeechT5HifiGanConfig

    cfg = lambda part: json.loads((CONFIGS / shapes / part / "config.json").read_text())  # noqa: E731
    torch.manual_seed(seed)
    vae = AutoencoderKL.from_config(cfg("vae")).eval()
    vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(**cfg("vocoder"))).eval()
    return vae, vocoder


def vae_variant(vae, name: str):
    """A copy of `vae` whose decode runs as `name` says (auto: what the engine's auto plan does)."""
    vae = copy.deepcopy(vae)
    if name == "auto":
        precision.apply_vae(vae, precision.resolve("auto", "cpu", cpu_bf16=True))
        return vae
    if name == "fp32":
        return vae
    vae.post_quant_conv.to(BF16)
    vae.decoder.to(BF16)
    last = vae.decoder.up_blocks[-1]
    keep = {"bf16": [], "bf16_tail": [], "bf16_lastres": [last.resnets[-1]], "bf16_lastblock": [last]}[name]
    if name != "bf16":
        keep += [vae.decoder.conv_norm_out, vae.decoder.conv_out]
    for module in keep:
        precision.keep_fp32(module)
    vae.decode = precision.cast_call(vae.decode, BF16)
    return vae


def vocoder_variant(vocoder, name: str):
    vocoder = copy.deepcopy(vocoder)
    if name == "auto":
        precision.apply_vocoder(vocoder, precision.resolve("auto", "cpu", cpu_bf16=True))
        return vocoder
    if name == "fp32":
        return vocoder
    vocoder.to(BF16)
    stages = {"bf16": 0, "bf16_post": 0, "bf16_last1": 1, "bf16_last2": 2}[name]
    if name != "bf16":
        for module in precision.vocoder_tail(vocoder, stages):
            precision.keep_fp32(module)
    vocoder.forward = precision.cast_call(vocoder.forward, BF16)
    return vocoder


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm())


def decode_mel(vae, latents):
    with torch.inference_mode():
        return vae.decode(latents / vae.config.scaling_factor).sample


def to_wave(vocoder, mel):
    with torch.inference_mode():
        return vocoder(mel.squeeze(1))  # what AudioLDM2Pipeline.mel_spectrogram_to_waveform does


def timings(fns: dict, repeats: int) -> dict:
    """{name: [seconds]}: one untimed warm-up each, then `repeats` rounds, the variants taking turns."""
    for fn in fns.values():
        fn()
    out = {name: [] for name in fns}
    loads = []
    for r in range(repeats):
        names = list(fns)
        names = names[r % len(names):] + names[:r % len(names)]
        loads.append(load_average())
        for name in names:
            t0 = time.perf_counter()
            fns[name]()
            out[name].append(round(time.perf_counter() - t0, 3))
    return out, loads


def run(seconds: float = 10.24, repeats: int = 2, latent_error: float = 0.0036, shapes: str = "audioldm2",
        vae_names=VAE_VARIANTS + ("auto",), vocoder_names=VOCODER_VARIANTS + ("auto",), build_fn=build) -> dict:
    vae, vocoder = build_fn(shapes)
    hop = 160  # 16 kHz, 10 ms mel hop
    factor = 2 ** (len(vae.config.block_out_channels) - 1)
    frames = -(-int(seconds * 16000 / hop) // factor) * factor
    gen = torch.Generator().manual_seed(1)
    latents = torch.randn(1, vae.config.latent_channels, frames // factor,
                          int(vocoder.config.model_in_dim) // factor, generator=gen)
    noise = torch.randn(latents.shape, generator=gen)
    perturbed = latents + noise * (latent_error * latents.norm() / noise.norm())
    started = load_average()
    vaes = {n: vae_variant(vae, n) for n in vae_names}
    vocs = {n: vocoder_variant(vocoder, n) for n in vocoder_names}
    mels = {n: decode_mel(v, latents) for n, v in vaes.items()}
    mels_p = {n: decode_mel(v, perturbed) for n, v in vaes.items()}
    ref_mel = mels["fp32"]
    ref_wave = to_wave(vocs["fp32"], ref_mel)
    report = {"benchmark": "decode_stages", "shapes": shapes, "seconds": seconds, "mel_frames": frames,
              "latents_shape": list(latents.shape), "torch": torch.__version__, "machine": platform.machine(),
              "cpu_threads": torch.get_num_threads(), "cpu_bf16": precision.cpu_has_bf16(),
              "auto_plan": precision.resolve("auto", "cpu", cpu_bf16=True).describe(),
              "latent_error": latent_error, "load_average_start": started}
    report["vae"] = {n: {"mel_rel_l2": rel(m, ref_mel),
                         "wave_rel_l2_fp32_vocoder": rel(to_wave(vocs["fp32"], m), ref_wave)}
                     for n, m in mels.items()}
    report["vocoder"] = {n: {"wave_rel_l2_fp32_mel": rel(to_wave(v, ref_mel), ref_wave)} for n, v in vocs.items()}
    chain, chain_p = {}, {}
    for vn, m in mels.items():
        for cn, v in vocs.items():
            chain[f"{vn}+{cn}"] = round(rel(to_wave(v, m), ref_wave), 5)
            chain_p[f"{vn}+{cn}"] = round(rel(to_wave(v, mels_p[vn]), ref_wave), 5)
    report["waveform_rel_l2"] = chain
    report["waveform_rel_l2_with_latent_error"] = chain_p
    t_vae, load_vae = timings({n: (lambda v=v: decode_mel(v, latents)) for n, v in vaes.items()}, repeats)
    t_voc, load_voc = timings({n: (lambda v=v: to_wave(v, ref_mel)) for n, v in vocs.items()}, repeats)
    for section, times in (("vae", t_vae), ("vocoder", t_voc)):
        base = statistics.median(times["fp32"])
        for n, runs in times.items():
            report[section][n].update(runs_s=runs, median_s=round(statistics.median(runs), 3),
                                      ratio_to_fp32=round(statistics.median(runs) / base, 3))
    report["load_average_per_round"] = {"vae": load_vae, "vocoder": load_voc}
    report["load_average_end"] = load_average()
    return report


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--seconds", type=float, default=10.24)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--latent-error", type=float, default=0.0036)
    parser.add_argument("--shapes", default="audioldm2")
    args = parser.parse_args(argv)
    report = run(args.seconds, args.repeats, args.latent_error, args.shapes)
    print_and_save(report, args.json)
    return report


if __name__ == "__main__":
    main()
