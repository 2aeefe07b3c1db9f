"""Real `loa` processes signalled at the write stage, a closed stdout, and two writers racing for one name.

The documented seam LOA_TEST_WRITE_GATE (core/fileio.py) holds a process just before its renames (temps written)
or just after its first rename (signals held), so the signal lands exactly there without timing guesses."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
FAST = ["--seconds", "0.5", "--steps", "1", "--seed", "4"]


def start_loa(args, cwd, gate=None, **popen):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if gate is not None:
        env["LOA_TEST_WRITE_GATE"] = str(gate)
    return subprocess.Popen([sys.executable, "-m", "core.cli.main", *map(str, args)], cwd=cwd, env=env,
                            stderr=subprocess.PIPE, text=True, **popen)


def wait_for(path: Path, process, timeout=240):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, f"{path.name} never reached"
        time.sleep(0.02)


def visible(folder: Path):
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".") and p.name != "gate")


def hidden(folder: Path):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_sigint_before_the_renames_changes_nothing(tiny_model_dir, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    for name in ("out-1.wav", "out-2.wav", "out-3.wav"):
        (tmp_path / name).write_bytes(b"the user's earlier take")
    loa = start_loa(["generate", "rain", "--model", tiny_model_dir, "-o", "out.wav", "--candidates", "3",
                     "--overwrite", *FAST], tmp_path, gate, stdout=subprocess.PIPE)
    wait_for(gate / "before-commit.reached", loa)
    loa.send_signal(signal.SIGINT)
    out, err = loa.communicate(timeout=60)
    assert loa.returncode == 130 and out == ""
    assert err.strip() == "loa: cancelled; no file was written or changed.", err
    assert all((tmp_path / f"out-{i}.wav").read_bytes() == b"the user's earlier take" for i in (1, 2, 3))
    assert visible(tmp_path) == ["out-1.wav", "out-2.wav", "out-3.wav"] and hidden(tmp_path) == []


def test_sigterm_during_the_renames_lets_the_whole_set_land_and_says_so(tiny_model_dir, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    (gate / "before-commit.release").touch()
    loa = start_loa(["generate", "rain", "--model", tiny_model_dir, "-o", "out.wav", "--candidates", "3", *FAST],
                    tmp_path, gate, stdout=subprocess.PIPE)
    wait_for(gate / "mid-commit.reached", loa)  # out-1.wav has landed, two more to go
    loa.send_signal(signal.SIGTERM)
    loa.send_signal(signal.SIGINT)
    time.sleep(0.2)  # give a wrongly delivered signal the chance to kill it here
    assert loa.poll() is None
    (gate / "mid-commit.release").touch()
    out, err = loa.communicate(timeout=60)
    assert loa.returncode in (130, 143), err
    assert "cancelled after writing 6 complete files (out-1.wav, out-1.wav.json, out-2.wav and 3 more)" in err and err.count("\n") == 1
    names = [f"out-{i}.wav" for i in (1, 2, 3)]
    assert visible(tmp_path) == sorted(names + [n + ".json" for n in names]) and hidden(tmp_path) == []
    assert all(sf.info(str(tmp_path / n)).frames == 8000 for n in names)


def test_sigkill_at_the_write_stage_keeps_the_old_file_whole(tiny_model_dir, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    (tmp_path / "out.wav").write_bytes(b"old")
    loa = start_loa(["generate", "rain", "--model", tiny_model_dir, "-o", "out.wav", "--overwrite", *FAST],
                    tmp_path, gate, stdout=subprocess.PIPE)
    wait_for(gate / "before-commit.reached", loa)
    loa.kill()
    loa.communicate(timeout=60)
    assert (tmp_path / "out.wav").read_bytes() == b"old" and not (tmp_path / "out.wav.json").exists()
    assert all(name.startswith(".out.wav") for name in hidden(tmp_path))  # only hidden temps are left


def test_a_closed_stdout_is_not_an_error_and_every_take_is_written(tiny_model_dir, tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -1` having gone away before the first line
    loa = start_loa(["generate", "rain", "--model", tiny_model_dir, "-o", "out.wav", "--candidates", "3", *FAST],
                    tmp_path, stdout=write_end)
    os.close(write_end)
    _, err = loa.communicate(timeout=240)
    assert loa.returncode == 0 and "Traceback" not in err and "Error" not in err, err
    assert all(sf.info(str(tmp_path / f"out-{i}.wav")).frames == 8000 for i in (1, 2, 3))


def test_the_real_head_pipeline(tiny_model_dir, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = (f"{sys.executable} -m core.cli.main generate rain --model {tiny_model_dir} -o out.wav "
               f"--candidates 3 {' '.join(FAST)} | head -1")
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0 and done.stdout == "out-1.wav\n" and "Traceback" not in done.stderr, done.stderr
    assert len(list(tmp_path.glob("out-?.wav"))) == 3


def test_two_writers_of_one_name_one_wins_whole_the_other_refuses(tiny_model_dir, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    writers = [start_loa(["generate", "rain", "--model", tiny_model_dir, "-o", "same.wav", "--json",
                          "--seconds", "0.5", "--steps", "1", "--seed", seed], tmp_path, gate,
                         stdout=subprocess.PIPE) for seed in ("1", "2")]
    wait_for(gate / "before-commit.reached", writers[0] if writers[0].poll() is None else writers[1])
    (gate / "before-commit.release").touch()
    (gate / "mid-commit.release").touch()
    results = [(w.communicate(timeout=240), w.returncode) for w in writers]
    codes = sorted(code for _, code in results)
    assert codes == [0, 2], results
    (winner_out, _), _ = next(r for r in results if r[1] == 0)
    (_, loser_err), _ = next(r for r in results if r[1] == 2)
    assert "same.wav already exists" in loser_err and loser_err.count("\n") == 1
    seed = json.loads(winner_out)["seed"]
    assert json.loads((tmp_path / "same.wav.json").read_text())["seed"] == seed  # audio and sidecar: one writer
    samples, _ = sf.read(str(tmp_path / "same.wav"), dtype="float32")
    assert samples.shape == (8000,) and np.isfinite(samples).all()
    assert visible(tmp_path) == ["same.wav", "same.wav.json"] and hidden(tmp_path) == []
