"""A real `loa batch` process interrupted mid-batch (SIGINT, then SIGKILL during a write and at a random point)
resumes to a complete output with every file exactly once."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from core.batch.manifest import file_sha256

REPO = Path(__file__).resolve().parents[1]
COUNT = 10


def start(tmp_path, model, gate=None):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if gate is not None:
        env["LOA_TEST_WRITE_GATE"] = str(gate)
    args = ["batch", "jobs.csv", "--out", "out", "--model", str(model), "--device", "cpu", "--batch-size", "1"]
    return subprocess.Popen([sys.executable, "-m", "core.cli.main", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def records(out):
    try:
        lines = (out / "manifest.jsonl").read_text().splitlines()
    except FileNotFoundError:
        return []
    return [r for r in map(json.loads, (line for line in lines if line.endswith("}"))) if "sha256" in r]


def wait_until(condition, process, timeout=240):
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "batch made no progress"
        time.sleep(0.05)


@pytest.mark.slow
def test_sigint_and_sigkill_mid_batch_resume_to_a_complete_duplicate_free_output(tiny_model_dir, tmp_path):
    (tmp_path / "jobs.csv").write_text(f"prompt,seconds,seed,steps,output\nrain on a tin roof,0.5,1-{COUNT},1,"
                                       "takes/{slug}_{seed}\n")
    out = tmp_path / "out"

    loa = start(tmp_path, tiny_model_dir)  # Ctrl+C: the file in flight lands, then it stops
    wait_until(lambda: len(records(out)) >= 2, loa)
    loa.send_signal(signal.SIGINT)
    _, err = loa.communicate(timeout=120)
    assert loa.returncode == 130, err
    assert "stopping after the files in flight" in err and "Run the same command again to resume" in err
    after_sigint = len(records(out))
    assert 2 <= after_sigint < COUNT

    gate = tmp_path / "gate"
    gate.mkdir()
    loa = start(tmp_path, tiny_model_dir, gate)  # SIGKILL with a file's temps written but not renamed
    wait_until(lambda: (gate / "before-commit.reached").exists(), loa)
    loa.send_signal(signal.SIGKILL)
    loa.communicate(timeout=60)
    assert [p for p in (out / "takes").iterdir() if p.name.startswith(".")]  # its temps are left behind

    loa = start(tmp_path, tiny_model_dir)  # SIGKILL at whatever point it has reached
    wait_until(lambda: len(records(out)) >= after_sigint + 1, loa)
    loa.send_signal(signal.SIGKILL)
    loa.communicate(timeout=60)

    loa = start(tmp_path, tiny_model_dir)
    _, err = loa.communicate(timeout=300)
    assert loa.returncode == 0, err
    final = records(out)
    expected = sorted(f"takes/rain-on-a-tin-roof_{seed}.wav" for seed in range(1, COUNT + 1))
    assert sorted(r["path"] for r in final) == expected  # every file once, no duplicate record
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.wav")) == expected
    assert not [p for p in out.rglob(".*") if p.name != ".loa-batch.lock"]
    for record in final:
        assert file_sha256(out / record["path"]) == record["sha256"]
        assert sf.info(str(out / record["path"])).frames == 8000
    assert len((out / "manifest.jsonl").read_text().splitlines()) == 1 + COUNT  # the header, one line per file
