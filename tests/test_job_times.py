"""Measured generation times per duration bucket (core.generation.job_times): recorded after each job, kept in
the app's cache folder, and used by the window's job rows and `loa batch`'s ETA (issue 22, "Every entry point")."""

from __future__ import annotations

import json
import time

import pytest

from core.batch.jobs import read_jobs
from core.batch.plan import plan_batch
from core.batch.runner import StopFlag, run_plan
from core.generation.job_times import FILE_NAME, JobTimes, bucket_label
from core.generation.requests import GenerationRequest
from core.paths import cache_dir


def test_buckets_are_the_compiled_lengths():
    assert bucket_label(8.0) == bucket_label(10.0) == bucket_label(10.24) == "10.24"
    assert bucket_label(2.0) == "2.56" and bucket_label(3.0) == "other" and bucket_label(40.0) == "other"


def test_estimates_are_kept_per_bucket_model_device_and_precision():
    cpu = JobTimes("cpu")
    cpu.record("m", 10.0, steps=20, candidates=1, took=40.0)
    cpu.record("m", 2.5, steps=20, candidates=1, took=4.0)
    # same bucket: the measured time, scaled by steps x candidates only (10 s renders the 10.24 s bucket)
    assert cpu.estimate("m", 9.0, 20, 1) == pytest.approx(40.0)
    assert cpu.estimate("m", 10.24, 10, 2) == pytest.approx(40.0)
    assert cpu.estimate("m", 2.0, 20, 1) == pytest.approx(4.0)  # its own bucket, not 10.24's figure scaled
    # a bucket never measured: the others' rate per audio second, times its length
    assert 4.0 * 20.48 / 2.56 <= cpu.estimate("m", 20.48, 20, 1) <= 40.0 * 2
    assert JobTimes("cuda").estimate("m", 10.0, 20, 1) is None and cpu.estimate("other", 10.0, 20, 1) is None
    assert cpu.estimate("m", 10.0, 20, 1, precision="fp32") is None
    data = json.loads((cache_dir() / FILE_NAME).read_text())
    assert data["runs"]["cpu|auto|m"]["10.24"] == [2.0]
    for k in range(7):  # the last five runs are kept
        cpu.record("m", 10.0, 1, 1, took=float(k + 1))
    assert json.loads((cache_dir() / FILE_NAME).read_text())["runs"]["cpu|auto|m"]["10.24"] == [3, 4, 5, 6, 7]


def test_a_damaged_file_means_no_estimate_and_is_replaced():
    (cache_dir() / FILE_NAME).write_text("{not json")
    times = JobTimes("cpu")
    assert times.estimate("m", 10.0, 20, 1) is None
    times.record("m", 10.0, 20, 1, took=20.0)
    assert times.estimate("m", 10.0, 20, 1) == pytest.approx(20.0)


def test_the_estimate_after_a_tiny_model_run_is_its_measured_time_per_bucket(tiny_engine):
    times = JobTimes("cpu")
    took = {}
    for seconds in (2.0, 4.5):  # buckets 2.56 s and 5.12 s
        t0 = time.perf_counter()
        tiny_engine.generate(GenerationRequest("rain on a tin roof", seconds=seconds, steps=2, seed=1))
        took[seconds] = time.perf_counter() - t0
        times.record(str(tiny_engine.model_id), seconds, 2, 1, took[seconds])
    assert times.estimate(str(tiny_engine.model_id), 2.5, 2, 1) == pytest.approx(took[2.0], rel=1e-4)
    assert times.estimate(str(tiny_engine.model_id), 5.0, 4, 1) == pytest.approx(2 * took[4.5], rel=1e-4)


def test_loa_batch_eta_comes_from_the_measured_times_before_its_first_file(tiny_model_dir, tmp_path):
    job = tmp_path / "sfx.csv"
    job.write_text("prompt,seconds,count,seed,steps,output\nrain on a tin roof,2.5,2,10,1,{slug}_{seed}\n")
    first = run_plan(plan_batch(read_jobs(job, default_model=str(tiny_model_dir)), tmp_path / "a", "cpu", max_batch=1),
                     StopFlag(), device="cpu")
    assert first.rendered == 2
    estimate = JobTimes("cpu").estimate(str(tiny_model_dir), 2.5, 1, 1)
    assert estimate is not None  # each unit's time was recorded under its bucket
    seen = []
    plan = plan_batch(read_jobs(job, default_model=str(tiny_model_dir)), tmp_path / "b", "cpu", max_batch=1)
    second = run_plan(plan, StopFlag(), device="cpu", on_progress=lambda s: seen.append(s.eta_seconds))
    assert sum(second.unit_estimates.values()) == pytest.approx(2 * estimate)  # an ETA before any file landed
    assert seen[0] is not None and seen[-1] == 0.0


def test_a_cache_that_cannot_take_the_times_file_never_fails_the_batch_or_loses_its_takes(tiny_model_dir, tmp_path):
    # job-times.json is a folder here (as a full or read-only cache folder would also refuse it): the estimate is
    # a nicety, so the takes are still written and the run counts them
    (cache_dir() / FILE_NAME).mkdir()
    job = tmp_path / "sfx.csv"
    job.write_text("prompt,seconds,count,seed,steps,output\nrain on a tin roof,2.5,1,10,1,{slug}_{seed}\n")
    stats = run_plan(plan_batch(read_jobs(job, default_model=str(tiny_model_dir)), tmp_path / "a", "cpu",
                                max_batch=1), StopFlag(), device="cpu")
    assert stats.rendered == 1 and len(list((tmp_path / "a").rglob("*.wav"))) == 1
    assert JobTimes("cpu").estimate(str(tiny_model_dir), 2.5, 1, 1) is None


def test_a_times_file_with_entries_of_the_wrong_shape_is_replaced_not_a_traceback():
    (cache_dir() / FILE_NAME).write_text(json.dumps({"version": 1, "runs": {"cpu|fp32|m": [1, 2],
                                                                            "cpu|fp32|n": {"10.24": 3}}}))
    times = JobTimes("cpu")
    for model in ("m", "n"):
        assert times.estimate(model, 10.0, 20, 1, precision="fp32") is None
        times.record(model, 10.0, 20, 1, took=20.0, precision="fp32")
        assert times.estimate(model, 10.0, 20, 1, precision="fp32") == pytest.approx(20.0)
