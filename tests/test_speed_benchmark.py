"""benchmarks.speed runs its whole code path on the tiny pipeline: JSON report, ratios and the fidelity figure."""

import json

import torch

from benchmarks import speed
from core.models.loading import load_pipeline


def test_the_speed_benchmark_reports_ours_beside_the_recipe_with_fidelity(tiny_model_dir):
    factory = lambda dtype: load_pipeline(tiny_model_dir, torch.device("cpu"), dtype)  # noqa: E731
    report = speed.run(torch.device("cpu"), ["base"], steps=2, repeats=1, cases=["one"], fidelity_seconds=1.0,
                       pipeline_factory=factory)
    report = json.loads(json.dumps(report))  # well-formed JSON, nothing unserialisable
    case = report["results"][0]["cases"][0]
    assert case["case"] == "one" and case["audio_seconds"] == 10.24 and case["steps"] == 2
    assert "skipped" in case["stock_defaults"] and report["reduced_set"]
    for path in ("recipe", "ours", "ours_reroll"):
        assert case[path]["warm_runs"] == 1 and case[path]["median_s"] > 0
        assert abs(case[path]["realtime_factor"] * case[path]["median_s"] - 10.24) < 0.05
        assert case[path]["peak_rss_gb"] > 0
    assert abs(case["ratio_ours_over_recipe"] * case["recipe"]["median_s"] - case["ours"]["median_s"]) < 0.01
    fidelity = case["fidelity"]
    assert fidelity["bound"] == 1e-4 and fidelity["within_bound"]
    assert 0 <= fidelity["relative_l2_latents"] <= 1e-4  # fp32: our loop is the stock loop


def test_the_stock_defaults_branch_runs_before_the_fast_paths(tiny_model_dir):
    """The CUDA-only branch (fp32 stock defaults first, then the fast dtype), driven on the CPU with few steps."""
    factory = lambda dtype: load_pipeline(tiny_model_dir, torch.device("cpu"), dtype)  # noqa: E731
    report = speed.run(torch.device("cpu"), ["base"], steps=1, repeats=1, cases=["one"], fidelity_seconds=0.5,
                       pipeline_factory=factory, stock_steps=2)
    stock = report["results"][0]["cases"][0]["stock_defaults"]
    assert stock["scheduler"] == "ddim" and stock["steps"] == 2 and stock["dtype"] == "float32"
    assert stock["median_s"] > 0 and stock["warm_runs"] == 1
