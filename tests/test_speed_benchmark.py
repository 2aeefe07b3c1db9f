"""benchmarks.speed runs its whole code path on the tiny pipeline: JSON report, ratios and the fidelity figure."""

import json

import pytest
import torch

from benchmarks import speed
from core.models.loading import load_pipeline


def test_the_speed_benchmark_reports_ours_beside_the_recipe_with_fidelity(tiny_model_dir):
    factory = lambda dtype: load_pipeline(tiny_model_dir, torch.device("cpu"), dtype)  # noqa: E731
    report = speed.run(torch.device("cpu"), ["base"], steps=2, repeats=2, cases=["one"], fidelity_seconds=1.0,
                       pipeline_factory=factory, precision="fp32", compile="off")
    report = json.loads(json.dumps(report))  # well-formed JSON, nothing unserialisable
    case = report["results"][0]["cases"][0]
    assert case["case"] == "one" and case["audio_seconds"] == 10.24 and case["steps"] == 2
    assert "skipped" in case["stock_defaults"] and report["reduced_set"]
    for path in ("recipe", "ours", "ours_reroll"):
        assert case[path]["warm_runs"] == 2 and case[path]["median_s"] > 0
        assert len(case[path]["load_average_1min"]) == 2
        assert abs(case[path]["realtime_factor"] * case[path]["median_s"] - 10.24) < 0.05
        assert case[path]["peak_rss_gb"] > 0
        assert case[path]["peak_vram"] == "absent: no GPU memory on cpu"  # peak_vram_gb on CUDA
    assert abs(case["ratio_ours_over_recipe"] * case["recipe"]["median_s"] - case["ours"]["median_s"]) < 0.01
    fidelity = case["fidelity"]
    assert fidelity["bound"] == 1e-4 and fidelity["within_bound"]
    assert 0 <= fidelity["relative_l2_latents"] <= 1e-4  # fp32: our loop is the stock loop
    assert 0 <= fidelity["relative_l2_waveform"] <= 1e-4
    assert case["recipe"]["dtype"] == "torch.float32" and case["ours"]["path"]["stages"].count("fp32") == 4


def test_ours_runs_on_a_twin_with_reduced_stages_while_the_stock_side_stays_fp32(tiny_model_dir):
    """bf16 ours (every stage bf16 but the VAE's last norm + conv; auto keeps the VAE fp32) beside stock fp32 on the same weights: the bound is
    the half-precision one, the figures are measured on both latents and waveform, stock keeps its fp32 modules."""
    pipes = []

    def factory(dtype):
        pipes.append(load_pipeline(tiny_model_dir, torch.device("cpu"), dtype))
        return pipes[-1]

    report = speed.run(torch.device("cpu"), ["base"], steps=1, repeats=1, cases=["one"], fidelity_seconds=0.5,
                       pipeline_factory=factory, precision="bf16", compile="off")
    case = report["results"][0]["cases"][0]
    assert case["ours"]["path"]["stages"] == "text fp32, unet bf16, vae bf16, vocoder bf16"
    assert case["fidelity"]["bound"] == 1e-2
    assert 0 < case["fidelity"]["relative_l2_latents"] < 1 and 0 < case["fidelity"]["relative_l2_waveform"] < 1
    stock = pipes[0]
    assert stock.unet.dtype == torch.float32 and stock.vocoder.dtype == torch.float32
    assert "forward" not in vars(stock.unet) and "decode" not in vars(stock.vae)  # no fast-path wrappers on it


def test_the_stock_defaults_branch_runs_before_the_fast_paths(tiny_model_dir):
    """The CUDA-only branch (fp32 stock defaults first, then the fast dtype), driven on the CPU with few steps."""
    factory = lambda dtype: load_pipeline(tiny_model_dir, torch.device("cpu"), dtype)  # noqa: E731
    report = speed.run(torch.device("cpu"), ["base"], steps=1, repeats=1, cases=["one"], fidelity_seconds=0.5,
                       pipeline_factory=factory, stock_steps=2)
    stock = report["results"][0]["cases"][0]["stock_defaults"]
    assert stock["scheduler"] == "ddim" and stock["steps"] == 2 and stock["dtype"] == "float32"
    assert stock["median_s"] > 0 and stock["warm_runs"] == 1


def test_each_run_splits_into_stages_that_show_which_path_ran_the_encoders(tiny_model_dir):
    """Stages sum to the run; the recipe and a fresh prompt run the encoders, a re-roll does not; only ours
    CLAP-ranks a single take; both decode."""
    factory = lambda dtype: load_pipeline(tiny_model_dir, torch.device("cpu"), dtype)  # noqa: E731
    report = speed.run(torch.device("cpu"), ["base"], steps=1, repeats=1, cases=["one"], fidelity_seconds=0.5,
                       pipeline_factory=factory)
    case = report["results"][0]["cases"][0]
    stages = {path: case[path]["stages_runs_s"][0] for path in ("recipe", "ours", "ours_reroll")}
    for path, st in stages.items():
        assert set(st) == {"encode", "decode", "score", "denoise_and_rest"}
        assert abs(sum(st.values()) - case[path]["runs_s"][0]) < 0.01
        assert st["decode"] > 0 and st["denoise_and_rest"] > 0
    assert stages["recipe"]["encode"] > 0 and stages["ours"]["encode"] > 0
    assert stages["ours_reroll"]["encode"] == 0
    assert stages["recipe"]["score"] == 0 and stages["ours"]["score"] > 0 and stages["ours_reroll"]["score"] > 0


def test_the_stage_clock_leaves_the_pipeline_as_it_found_it(tiny_model_dir):
    from benchmarks.bench_generate import sync
    from benchmarks.stage_clock import stage_clock
    from core.generation import encoding
    from core.generation.engine import Engine

    pipe = load_pipeline(tiny_model_dir, torch.device("cpu"), torch.float32)
    engine = Engine.from_pipeline(pipe, "tiny")
    ours = encoding.encode_values
    with stage_clock(pipe, engine, sync) as seconds:
        assert "encode_prompt" in vars(pipe) and encoding.encode_values is not ours
        pipe.encode_prompt("rain", pipe.device, 1, False)
    assert seconds["encode"] > 0 and seconds["decode"] == 0
    assert encoding.encode_values is ours  # our encoder's clock is taken off too
    assert "encode_prompt" not in vars(pipe) and "decode" not in vars(pipe.vae) and "score" not in vars(engine)


def test_paths_take_turns_in_an_order_rotated_every_round():
    names = ["recipe", "ours", "ours_reroll"]
    orders = [speed.round_order(names, r) for r in range(3)]
    assert orders[0] == names and orders[1] == ["ours", "ours_reroll", "recipe"]
    assert [o[0] for o in orders] == names  # each path opens one round
    assert speed.round_order(names, 3) == names


def test_a_path_that_misses_its_prompt_cache_expectation_stops_the_benchmark(tiny_model_dir):
    from core.generation.engine import Engine

    engine = Engine.from_pipeline(load_pipeline(tiny_model_dir, torch.device("cpu"), torch.float32), "tiny")
    request = speed.our_request(0.5, 1, 1)
    with speed.expect_cache(engine, hit=False):
        engine.generate(request)
    with speed.expect_cache(engine, hit=True):
        engine.generate(request)
    with pytest.raises(RuntimeError, match="expected a prompt cache miss"):
        with speed.expect_cache(engine, hit=False):
            engine.generate(request)


def test_the_decode_stage_benchmark_compares_each_variant_with_fp32(tiny_model_dir):
    """benchmarks/decode_stages.py on the tiny VAE and vocoder: every variant timed and compared; fp32 is exact,
    the bf16 ones are not, and `auto` is the plan's own choice (fp32 VAE, vocoder with its last stages fp32)."""
    from benchmarks import decode_stages

    pipe = load_pipeline(tiny_model_dir, torch.device("cpu"), torch.float32)
    report = decode_stages.run(seconds=0.64, repeats=1, build_fn=lambda _shapes: (pipe.vae, pipe.vocoder))
    report = json.loads(json.dumps(report))
    assert report["vae"]["fp32"]["mel_rel_l2"] == 0 and report["vocoder"]["fp32"]["wave_rel_l2_fp32_mel"] == 0
    assert report["vae"]["bf16"]["mel_rel_l2"] > 0 and report["vocoder"]["bf16"]["wave_rel_l2_fp32_mel"] > 0
    assert report["vae"]["auto"]["mel_rel_l2"] == 0  # auto: the VAE decoder in fp32
    assert report["vocoder"]["auto"] == {**report["vocoder"]["auto"],
                                         "wave_rel_l2_fp32_mel": report["vocoder"]["bf16_last2"]["wave_rel_l2_fp32_mel"]}
    assert report["waveform_rel_l2"]["fp32+fp32"] == 0 < report["waveform_rel_l2_with_latent_error"]["fp32+fp32"]
    assert len(report["waveform_rel_l2"]) == 6 * 6
    for section in ("vae", "vocoder"):
        assert all(len(v["runs_s"]) == 1 and v["median_s"] > 0 for v in report[section].values())
