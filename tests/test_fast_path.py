"""The fast path on the tiny model: precision per stage (every device's dtype logic), compiled bucket graphs
(foreground, background, from the disk cache), and the user-facing switches (CLI, batch, the window's menu).

Compiled tests use dynamo with its `eager` backend (LOA_COMPILE_BACKEND): the whole mechanism runs (capture,
guards, keys, buckets, threads, markers) without paying inductor's C++ build, minutes here per graph;
benchmarks/speed.py measures inductor itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import InputError
from core.generation import compiled, precision, sampling
from core.generation.engine import Engine
from core.generation.requests import GenerationRequest
from core.models.loading import load_pipeline

BF16, FP16, FP32 = torch.bfloat16, torch.float16, torch.float32


def request(seconds=1.0, steps=2, seed=3, candidates=1):
    return GenerationRequest("rain on a tin roof", seconds=seconds, steps=steps, seed=seed, candidates=candidates)


# ---- precision: which dtype each stage gets, per device ----------------------------------------------------
def test_auto_precision_per_device():
    cpu_bf16 = precision.resolve("auto", "cpu", cpu_bf16=True)
    # The VAE decoder stays fp32 and the vocoder's last two stages too: bf16 there put the full-size waveform
    # 0.0130 from fp32 (bound 1e-2); this plan measured 0.0080 (benchmarks/decode_stages.py, docs/developers.md).
    assert (cpu_bf16.text, cpu_bf16.unet, cpu_bf16.vae, cpu_bf16.vocoder) == (FP32, BF16, FP32, BF16)
    assert cpu_bf16.vocoder_fp32_stages == 2 and not cpu_bf16.vae_fp32_fallback
    assert cpu_bf16.describe() == "text fp32, unet bf16, vae fp32, vocoder bf16 (its last 2 stages fp32)"
    explicit = precision.resolve("bf16", "cpu")  # asked for: every stage bf16 but the VAE's last norm + conv
    assert (explicit.vae, explicit.vocoder, explicit.vocoder_fp32_stages) == (BF16, BF16, None)
    plain_cpu = precision.resolve("auto", "cpu", cpu_bf16=False)
    assert {plain_cpu.text, plain_cpu.unet, plain_cpu.vae, plain_cpu.vocoder} == {FP32} and not plain_cpu.reduced
    cuda = precision.resolve("auto", "cuda")
    assert {cuda.text, cuda.unet, cuda.vae, cuda.vocoder} == {FP16} and cuda.vae_fp32_fallback
    assert precision.resolve("fp32", "cuda").unet == FP32


@pytest.mark.parametrize("name, device, cpu_bf16", [("auto", "cpu", True), ("auto", "cpu", False),
                                                   ("bf16", "cpu", None), ("fp16", "cpu", None),
                                                   ("fp32", "cpu", None), ("auto", "cuda", None)])
def test_each_precision_plan_lands_on_the_tiny_pipeline_stage_by_stage(tiny_model_dir, name, device, cpu_bf16):
    """Every path's plan applied to a real (tiny) pipeline: the UNet, the VAE decoder (its last norm + conv), the
    vocoder (its last two stages and post conv) and the VAE encoder get the dtypes the plan names, and a decode
    through the wrapped stages gives finite audio in the load dtype."""
    plan = precision.resolve(name, device, cpu_bf16=cpu_bf16)
    pipe = load_pipeline(tiny_model_dir, torch.device("cpu"), plan.text)
    precision.apply(pipe, plan)
    dec, voc = pipe.vae.decoder, pipe.vocoder
    assert pipe.unet.dtype == plan.unet and dec.up_blocks[0].resnets[0].conv1.weight.dtype == plan.vae
    tail = FP32 if (plan.vae_fp32_tail and plan.vae != FP32) else plan.vae
    assert dec.conv_out.weight.dtype == dec.conv_norm_out.weight.dtype == tail
    assert pipe.vae.encoder.conv_in.weight.dtype == plan.text  # user audio encodes in the load dtype
    kept = plan.vocoder_fp32_stages or 0
    for i, up in enumerate(voc.upsampler):
        assert up.weight.dtype == (FP32 if i >= len(voc.upsampler) - kept else plan.vocoder), i
    assert voc.conv_pre.weight.dtype == plan.vocoder
    assert voc.conv_post.weight.dtype == (FP32 if kept else plan.vocoder)
    with torch.inference_mode():
        z = torch.randn(1, 8, 16, 16, generator=torch.Generator().manual_seed(0)).to(plan.text)
        wave = sampling.decode(pipe, z, 8000)
    assert wave.dtype == np.float32 and np.isfinite(wave).all() and np.abs(wave).max() > 0


def test_mps_runs_fp32_unless_told_otherwise():
    mps = precision.resolve("auto", "mps")
    assert {mps.text, mps.unet, mps.vae, mps.vocoder} == {FP32}
    half = precision.resolve("fp16", "mps")
    assert {half.text, half.unet, half.vae, half.vocoder} == {FP16} and half.vae_fp32_fallback
    assert precision.resolve("bf16", "mps").describe() == "text bf16, unet bf16, vae bf16, vocoder bf16"


def test_an_unknown_precision_is_bad_input(tiny_model_dir):
    with pytest.raises(InputError, match="precision 'fp8' is unknown; use one of auto, fp32, bf16, fp16"):
        Engine(tiny_model_dir, device="cpu", precision="fp8")


def test_bf16_engine_casts_the_stages_and_keeps_encoders_and_the_vae_tail_in_fp32(tiny_model_dir):
    engine = Engine(tiny_model_dir, device="cpu", precision="bf16")
    result = engine.generate(request())
    pipe = engine.pipeline
    assert pipe.unet.dtype == BF16 and pipe.vocoder.dtype == BF16
    assert pipe.vae.decoder.up_blocks[0].resnets[0].conv1.weight.dtype == BF16
    assert pipe.vae.decoder.conv_out.weight.dtype == FP32 and pipe.vae.encoder.conv_in.weight.dtype == FP32
    assert pipe.text_encoder.dtype == FP32 and pipe.language_model.dtype == FP32
    wave = result.best.clip.samples
    assert wave.dtype == np.float32 and np.isfinite(wave).all() and len(wave) == 16000 and np.abs(wave).max() > 0
    # Same seed, full precision: close, not identical (the reduced stages really ran).
    fp32 = Engine(tiny_model_dir, device="cpu", precision="fp32").generate(request()).best.clip.samples
    assert not np.array_equal(wave, fp32)
    assert np.linalg.norm(wave - fp32) / np.linalg.norm(fp32) < 0.5


def test_the_cuda_plan_runs_its_fp16_dtype_handling_on_the_cpu(tiny_model_dir):
    """fp16 everywhere, as on CUDA: the pipeline loads in fp16 and generates finite audio through every stage."""
    plan = precision.resolve("auto", "cuda")
    pipe = load_pipeline(tiny_model_dir, torch.device("cpu"), plan.text)
    precision.apply(pipe, plan)
    engine = Engine.from_pipeline(pipe, "tiny")
    result = engine.generate(request(steps=1))
    assert engine.dtype == FP16 and pipe.unet.dtype == FP16 and pipe.vae.dtype == FP16
    assert np.isfinite(result.best.clip.samples).all() and result.best.clip.samples.dtype == np.float32
    with pytest.raises(RuntimeError, match="already applied"):
        precision.apply(pipe, plan)


def _overflowing_fp16_pipe(tiny_model_dir, fallback: bool):
    plan = precision.resolve("fp16", "cuda")
    if not fallback:
        plan = precision.StagePrecision(*[FP16] * 4, "fp16", vae_fp32_fallback=False)
    pipe = load_pipeline(tiny_model_dir, torch.device("cpu"), FP16)
    with torch.no_grad():
        pipe.vae.decoder.conv_in.weight.mul_(3e3)  # still fp16 weights; activations will pass fp16's 65504
    precision.apply(pipe, plan)
    return pipe


@torch.no_grad()
def test_an_fp16_vae_that_overflows_decodes_again_in_fp32(tiny_model_dir):
    z = torch.randn(1, 8, 4, 4, generator=torch.Generator().manual_seed(0)).to(FP16) * 1000
    broken = _overflowing_fp16_pipe(tiny_model_dir, fallback=False).vae.decode(z).sample
    assert not torch.isfinite(broken).all()  # the failure the fallback is for
    pipe = _overflowing_fp16_pipe(tiny_model_dir, fallback=True)
    out = pipe.vae.decode(z).sample
    assert torch.isfinite(out).all() and out.dtype == FP16
    assert pipe.vae.dtype == FP32 and pipe.vae.loa_upcast
    assert torch.isfinite(pipe.vae.decode(z).sample).all()  # later decodes stay in fp32


# ---- buckets ---------------------------------------------------------------------------------------------------
def test_a_duration_runs_in_its_bucket_or_eager():
    assert compiled.bucket_for(10.0) == 10.24 and compiled.bucket_for(10.24) == 10.24
    assert compiled.bucket_for(8.0) == 10.24 and compiled.bucket_for(2.0) == 2.56 and compiled.bucket_for(30) == 30.72
    assert compiled.bucket_for(7.0) is None  # 10.24 would leave 32% unused
    assert compiled.bucket_for(1.0) is None and compiled.bucket_for(31.0) is None


def test_compile_policy_per_device_and_switch():
    bf16, fp32 = precision.resolve("auto", "cpu", cpu_bf16=True), precision.resolve("fp32", "cpu")
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert compiled.compile_wanted("auto", cpu, bf16) and not compiled.compile_wanted("auto", cpu, fp32)
    assert compiled.compile_wanted("auto", cuda, precision.resolve("auto", cuda))
    assert not compiled.compile_wanted("off", cuda, bf16) and compiled.compile_wanted("on", cpu, fp32)
    assert compiled.stages_for(cpu) == ("unet",) and compiled.stages_for(cuda) == ("unet", "vae", "vocoder")


def test_a_length_outside_the_buckets_runs_eager_and_says_so(tiny_model_dir, monkeypatch):
    monkeypatch.setenv(compiled.BACKEND_ENV, "eager")
    engine = Engine(tiny_model_dir, device="cpu", precision="bf16", compile="on", background_compile=False)
    result = engine.generate(request(seconds=1.0, steps=1))
    assert len(result.best.clip.samples) == 16000
    assert "ran without the compiled graphs" in result.notes[0] and "1 s" in result.notes[0]
    stage = engine.fast.stages["unet"]
    assert stage.calls == {"compiled": 0, "eager": 1} and not stage.ready  # one step: one (guidance-batched) call
    # a compiling CPU engine keeps its UNet channels-last (oneDNN's layout: no reorders around each convolution)
    assert engine.pipeline.unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last)
    plain = Engine(tiny_model_dir, device="cpu", precision="bf16", compile="off")
    plain.load()
    assert not plain.pipeline.unet.conv_in.weight.is_contiguous(memory_format=torch.channels_last)


def test_a_bucket_length_compiles_then_runs_compiled_and_matches_eager(tiny_model_dir, monkeypatch):
    """`on`: compiled in the foreground at the first call; a 2.0 s request renders the 2.56 s bucket, is cut to
    2.0 s, and matches the eager engine's take for the same seed at the same rendered length (fp32, so that only
    the compiled path differs)."""
    monkeypatch.setenv(compiled.BACKEND_ENV, "eager")
    fast = Engine(tiny_model_dir, device="cpu", precision="fp32", compile="on", background_compile=False)
    take = fast.generate(request(seconds=2.0, steps=2))
    stage = fast.fast.stages["unet"]
    assert stage.calls["compiled"] == 2 and stage.calls["eager"] == 0 and len(stage.ready) == 1
    assert take.notes == [] and len(take.best.clip.samples) == 32000
    eager = Engine(tiny_model_dir, device="cpu", precision="fp32", compile="off")
    same = eager.generate(request(seconds=2.56, steps=2)).best.clip.samples[:32000]
    rel = np.linalg.norm(take.best.clip.samples - same) / np.linalg.norm(same)
    print("relative L2 compiled vs eager", rel)
    assert rel < 1e-4  # float rounding only: the padded prompt tokens are masked


def test_a_compile_runs_no_collection_pass_of_its_own(tiny_model_dir, monkeypatch):
    """Dynamo collects the young generations after each traced frame (`run_gc_after_compile`): with a compile's
    objects that pass held the interpreter for 1.1-1.2 s in the window (benchmarks/bench_gui_pause.py). Our
    collector policy (core.gc_policy) handles them; no pass may run while a stage compiles."""
    import gc

    monkeypatch.setenv(compiled.BACKEND_ENV, "eager")
    passes = []

    def seen(phase, info):
        if phase == "start":
            passes.append(info["generation"])

    fast = Engine(tiny_model_dir, device="cpu", precision="fp32", compile="on", background_compile=False)
    gc.callbacks.append(seen)
    try:
        fast.generate(request(seconds=2.0, steps=1))
    finally:
        gc.callbacks.remove(seen)
    assert len(fast.fast.stages["unet"].ready) == 1
    assert passes == []


@pytest.mark.slow  # dynamo traces the tiny UNet (and VAE, vocoder): ~1-4 min on 2 busy cores
def test_the_window_compiles_in_the_background_and_a_second_start_reads_the_disk_cache(tiny_model_dir, monkeypatch):
    """Background (the window, batch): at load the 10.24 s bucket compiles on a thread while takes run eager;
    later takes run compiled. A later one-shot process (no background) compiles that bucket in the foreground
    only because the first left it in the disk cache; without that cache it runs eager."""
    monkeypatch.setenv(compiled.BACKEND_ENV, "eager")
    window = Engine(tiny_model_dir, device="cpu", precision="bf16", compile="auto", background_compile=True)
    window.load()
    assert window.fast.warm_thread is not None  # started at load, not at the first take
    window.fast.wait(timeout=600)
    stage = window.fast.stages["unet"]
    assert len(stage.ready) == 1 and stage.broken is None
    window.generate(request(seconds=10.0, steps=1, seed=5))
    assert stage.calls["compiled"] == 1  # the warm-up's shape is the one a 10 s take uses (padded prompt tokens)

    one_shot = Engine(tiny_model_dir, device="cpu", precision="bf16", compile="auto", background_compile=False)
    one_shot.generate(request(seconds=10.0, steps=1))
    assert one_shot.fast.stages["unet"].calls == {"compiled": 1, "eager": 0}
    assert one_shot.fast.stages["unet"].cached_on_disk(next(iter(stage.ready)))

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tiny_model_dir.parent / "empty-inductor-cache"))
    cold = Engine(tiny_model_dir, device="cpu", precision="bf16", compile="auto", background_compile=False)
    cold.generate(request(seconds=10.0, steps=1))
    assert cold.fast.stages["unet"].calls == {"compiled": 0, "eager": 1}


def test_a_compile_that_fails_leaves_the_stage_eager(tiny_model_dir, monkeypatch):
    monkeypatch.setenv(compiled.BACKEND_ENV, "no-such-backend")
    engine = Engine(tiny_model_dir, device="cpu", precision="bf16", compile="on", background_compile=False)
    result = engine.generate(request(seconds=2.56, steps=2))
    stage = engine.fast.stages["unet"]
    assert np.isfinite(result.best.clip.samples).all() and stage.calls == {"compiled": 0, "eager": 2}
    assert stage.broken and "compiling failed" in stage.broken


def test_fp32_on_a_cpu_is_not_compiled_by_default(tiny_model_dir):
    engine = Engine(tiny_model_dir, device="cpu", precision="fp32", compile="auto")
    engine.load()
    assert not engine.fast.active and engine.fast.stages == {} and engine.fast.render_seconds(10.0, True) == (10.0, None)


# ---- the switches: CLI, batch, the window ------------------------------------------------------------------------
def _generate(tiny_model_dir, tmp_path, name, *extra):
    from core.audio.clip import load_clip
    from core.cli.main import main

    out = tmp_path / f"{name}.wav"
    code = main(["generate", "rain", "--model", str(tiny_model_dir), "-o", str(out), "--seed", "4", "--seconds",
                 "1", "--steps", "2", "--device", "cpu", *extra])
    assert code == 0
    return load_clip(out).samples


def test_loa_generate_takes_a_precision(tiny_model_dir, tmp_path, capsys):
    fp32 = _generate(tiny_model_dir, tmp_path, "fp32", "--precision", "fp32")
    bf16 = _generate(tiny_model_dir, tmp_path, "bf16", "--precision", "bf16")
    again = _generate(tiny_model_dir, tmp_path, "bf16-again", "--precision", "bf16")
    assert not np.array_equal(fp32, bf16) and np.array_equal(bf16, again)
    from core.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["generate", "rain", "--model", str(tiny_model_dir), "--precision", "fp8"])
    assert exit_info.value.code == 2 and "invalid choice: 'fp8'" in capsys.readouterr().err


def test_loa_batch_takes_a_precision_for_its_engines_and_restores_the_default(tiny_model_dir, tmp_path, capsys,
                                                                                monkeypatch):
    import os

    import soundfile as sf

    from core.cli.main import main

    monkeypatch.delenv("LOA_PRECISION")
    (tmp_path / "jobs.csv").write_text("prompt,seconds,count,seed,steps\nrain,0.5,1,8,2\n")
    takes = {}
    for name in ("fp32", "bf16"):
        out = tmp_path / name
        assert main(["batch", str(tmp_path / "jobs.csv"), "--out", str(out), "--model", str(tiny_model_dir),
                     "--device", "cpu", "--precision", name, "--quiet"]) == 0, capsys.readouterr().err
        takes[name] = sf.read(next(out.rglob("*.wav")))[0]
        assert "LOA_PRECISION" not in os.environ
    assert not np.array_equal(takes["fp32"], takes["bf16"])


def test_inductor_caches_under_the_app_cache_folder_unless_the_user_chose_a_folder(monkeypatch, tmp_path):
    from torch._inductor.runtime.cache_dir_utils import cache_dir, default_cache_dir

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", default_cache_dir())  # what inductor writes when it looks first
    assert compiled.use_disk_cache() == str(tmp_path / "loa-cache" / "inductor") == cache_dir()
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "mine"))
    assert compiled.use_disk_cache() == str(tmp_path / "mine")


@pytest.mark.slow  # dynamo traces the tiny UNet (and VAE, vocoder): ~1-4 min on 2 busy cores
def test_the_cuda_stage_set_runs_compiled_in_fp16_and_an_overflowing_vae_graph_falls_back(tiny_model_dir, monkeypatch):
    """CUDA's plan and stage set (UNet, VAE decoder, vocoder compiled), driven on the CPU: every stage runs its
    graph; when the fp16 VAE graph overflows, the take still comes out finite (eager, fp32 VAE) and later
    decodes stay eager."""
    monkeypatch.setenv(compiled.BACKEND_ENV, "eager")
    plan = precision.resolve("auto", "cuda")
    pipe = load_pipeline(tiny_model_dir, torch.device("cpu"), plan.text)
    precision.apply(pipe, plan)
    stages = compiled.install(pipe, plan, torch.device("cpu"), background=False, foreground_always=True,
                              stages=compiled.stages_for(torch.device("cuda")))
    engine = Engine.from_pipeline(pipe, "tiny")
    first = engine.generate(request(seconds=2.56, steps=1))
    assert {name: s.calls["compiled"] for name, s in stages.items()} == {"unet": 1, "vae": 1, "vocoder": 1}
    assert np.isfinite(first.best.clip.samples).all()
    with torch.no_grad():
        pipe.vae.decoder.conv_in.weight.mul_(3e5)  # fp16 activations overflow from here on
    second = engine.generate(request(seconds=2.56, steps=1))
    assert np.isfinite(second.best.clip.samples).all() and pipe.vae.loa_upcast and pipe.vae.dtype == FP32
    assert stages["vae"].broken and stages["vae"].calls == {"compiled": 1, "eager": 1}


def test_speech_renders_its_own_length_never_a_bucket(tiny_speech_model_dir, monkeypatch):
    """The words are spread over the rendered length, so a bucket's extra length would cut the last words off."""
    from core.speech.tts import SpeechRequest, speak

    monkeypatch.setenv(compiled.BACKEND_ENV, "eager")
    engine = Engine(tiny_speech_model_dir, device="cpu", precision="bf16", compile="on", background_compile=False)
    result = speak(engine, SpeechRequest("Doors open at eight.", seconds=2.0, seed=1, steps=1))
    assert result.best.clip.frames == 32000 and result.notes == []
    assert engine.fast.stages["unet"].calls == {"compiled": 0, "eager": 1}


def test_the_48k_models_auto_plan_keeps_its_unet_in_fp32_on_a_bf16_cpu():
    """Its bf16 UNet put the full-size waveform 0.0099-0.0194 from stock (docs/developers.md): over the bound."""
    cpu_auto = precision.resolve("auto", "cpu", cpu_bf16=True)
    film = precision.for_model(cpu_auto, "audioldm")
    assert (film.unet, film.vae, film.vocoder, film.vocoder_fp32_stages) == (FP32, FP32, BF16, 2)
    assert precision.for_model(cpu_auto, "audioldm2") == cpu_auto  # the base models keep theirs
    for asked in (precision.resolve("bf16", "cpu"), precision.resolve("auto", "cuda")):
        assert precision.for_model(asked, "audioldm") == asked  # chosen by the user, or another device's


@pytest.mark.parametrize("model, unet", [("tiny_48k_model", FP32), ("tiny_model_dir", BF16)])
def test_an_engine_chooses_the_plan_for_the_model_it_loads(request, monkeypatch, model, unet):
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    engine = Engine(request.getfixturevalue(model), device="cpu", precision="auto", compile="off")
    result = engine.generate(GenerationRequest("rain on a tin roof", seconds=1.0, steps=2, seed=3))
    pipe = engine.pipeline
    assert pipe.unet.dtype == unet and engine.fast.plan.unet == unet
    assert pipe.vocoder.conv_pre.weight.dtype == BF16 and pipe.vocoder.conv_post.weight.dtype == FP32
    assert np.isfinite(result.best.clip.samples).all()
