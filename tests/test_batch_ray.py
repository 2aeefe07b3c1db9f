"""Ray mode on a local Ray instance with two CPU actors (one instance shared by this module: Ray starts slowly):
killing an actor mid-run still yields every file exactly once; the CLI's --ray resumes like local mode."""

import json
import os
import signal

import pytest
from audio_services import require_module

ray = require_module("ray", "Ray mode needs the cluster extra (.ci/run installs it)")

from core.batch.jobs import read_jobs  # noqa: E402
from core.batch.manifest import file_sha256  # noqa: E402
from core.batch.plan import plan_batch  # noqa: E402
from core.batch.ray_pool import start_local_ray  # noqa: E402
from core.batch.runner import StopFlag, run_plan  # noqa: E402
from core.cli.main import main  # noqa: E402

pytestmark = pytest.mark.slow
COUNT = 6


@pytest.fixture(scope="module")
def local_ray():
    start_local_ray(num_cpus=2)
    yield
    ray.shutdown()


def write_jobs(tmp_path, model):
    path = tmp_path / "jobs.jsonl"
    path.write_text(json.dumps({"prompt": "thunder and heavy rain", "seed": f"1-{COUNT}", "seconds": 0.5,
                                "steps": 1, "model": str(model), "output": "storm/{seed}", "pack": "weather"}) + "\n")
    return path


def check_complete(out):
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()[1:]]  # after the header
    expected = [f"storm/{seed}.wav" for seed in range(1, COUNT + 1)]
    assert sorted(r["path"] for r in records) == sorted(expected)  # every file once, in the manifest once
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.wav")) == sorted(expected)
    for record in records:
        assert file_sha256(out / record["path"]) == record["sha256"] and record["metadata"] == {"pack": "weather"}
    return records


def test_killing_an_actor_mid_run_still_renders_every_file_once(local_ray, tiny_model_dir, tmp_path, capsys):
    job = read_jobs(write_jobs(tmp_path, tiny_model_dir))
    out = tmp_path / "out"
    plan = plan_batch(job, out, "cpu", max_batch=1)
    assert len(plan.units) == COUNT
    workers, killed = [], []

    def kill_one_after_the_first_file(stats):
        if not killed:
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])

    stats = run_plan(plan, StopFlag(), ray="auto", device="cpu", on_workers=workers.extend,
                     on_progress=kill_one_after_the_first_file)
    assert len(workers) == 2 and killed  # one actor per CPU slot
    assert stats.rendered == COUNT and stats.done == COUNT
    assert "a Ray worker died; its 1 file goes to another worker (1 left)" in capsys.readouterr().err
    check_complete(out)


def test_cli_ray_mode_resumes_like_local_mode(local_ray, tiny_model_dir, tmp_path, capsys):
    jobs = write_jobs(tmp_path, tiny_model_dir)
    out = tmp_path / "out"
    args = ["batch", str(jobs), "--out", str(out), "--ray", "auto", "--device", "cpu", "--batch-size", "2"]
    assert main(args) == 0
    assert f"batch done: {COUNT} rendered, 0 already done" in capsys.readouterr().err
    check_complete(out)
    (out / "storm/3.wav").unlink()
    assert main(args) == 0
    assert f"batch done: 1 rendered, {COUNT - 1} already done" in capsys.readouterr().err
    check_complete(out)
