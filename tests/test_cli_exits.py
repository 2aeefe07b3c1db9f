"""Issue 18's last exit-1 classes, as real `loa` processes: Ctrl+C while a file is encoded, a long .ogg, a closed
or full stdout. Each ends as one line (or none) with an honest exit code, never a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]


def loa_command(args) -> list[str]:
    return [sys.executable, "-m", "core.cli.entry", *map(str, args)]


def loa_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def run_loa(args, cwd, **kwargs) -> subprocess.CompletedProcess:
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    kwargs.setdefault("timeout", 600)
    return subprocess.run(loa_command(args), cwd=cwd, env=loa_env(), text=True, **kwargs)


def tone(path: Path, seconds: float, rate: int = 44_100, subtype: str = "PCM_16") -> Path:
    t = np.arange(int(seconds * rate)) / rate
    samples = np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 331 * t)], axis=1) * 0.2
    sf.write(str(path), samples.astype(np.float32), rate, subtype=subtype)
    return path


def test_ctrl_c_while_a_file_is_encoded_is_one_line_and_exit_130(tmp_path):
    source = tone(tmp_path / "long.flac", 300)
    (tmp_path / "out.flac").write_bytes(b"the user's earlier file")
    loa = subprocess.Popen(loa_command(["edit", source, "-o", "out.flac", "--gain", "-1", "--overwrite"]),
                           cwd=tmp_path, env=loa_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(p.stat().st_size > 1_000_000 for p in tmp_path.glob(".out.flac*")):  # the encode is under way
        assert loa.poll() is None, loa.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    loa.send_signal(signal.SIGINT)
    out, err = loa.communicate(timeout=60)
    assert loa.returncode == 130, err
    assert err == "loa: cancelled; no file was written or changed.\n" and out == ""
    assert (tmp_path / "out.flac").read_bytes() == b"the user's earlier file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.flac", "out.flac"]  # no temp left


def test_a_long_ogg_is_encoded_without_crashing(tmp_path):
    """libvorbis encodes one write call's samples on its stack: 100 s of stereo in one call was SIGSEGV."""
    source = tone(tmp_path / "long.wav", 100)
    done = run_loa(["edit", source, "-o", "out.ogg", "--gain", "-1"], tmp_path)
    assert done.returncode == 0 and done.stderr == "", done
    assert sf.info(str(tmp_path / "out.ogg")).frames == 100 * 44_100


def test_a_closed_stdout_is_not_an_error(tmp_path):
    source = tone(tmp_path / "in.wav", 1)
    done = subprocess.run(["bash", "-c", " ".join(loa_command(["edit", source, "-o", "out.wav", "--gain", "-1"]))
                           + " >&-"], cwd=tmp_path, env=loa_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0 and done.stderr == "", done
    assert sf.info(str(tmp_path / "out.wav")).frames == 44_100


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_stdout_on_a_full_device_is_one_line_after_the_files_are_written(tmp_path):
    source = tone(tmp_path / "in.wav", 1)
    with open("/dev/full", "w") as full:
        done = run_loa(["edit", source, "-o", "out.wav", "--gain", "-1"], tmp_path, stdout=full,
                       stderr=subprocess.PIPE)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr == "loa: error: cannot print to standard output (no space left on device); the files were " \
                          "written: out.wav.\n"
    assert sf.info(str(tmp_path / "out.wav")).frames == 44_100  # the work itself was done


def test_edit_says_how_many_nan_or_infinite_samples_it_repaired(tmp_path):
    samples = np.full((8_000, 2), 0.25, np.float32)
    samples[10, 0], samples[20, 1], samples[30, 0] = np.nan, np.inf, -np.inf
    sf.write(str(tmp_path / "broken.wav"), samples, 8_000, subtype="FLOAT")
    done = run_loa(["edit", "broken.wav", "-o", "fixed.wav", "--gain", "-6"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "loa: note: broken.wav: 3 NaN or infinite samples were replaced by silence.\n"
    fixed, _ = sf.read(str(tmp_path / "fixed.wav"), dtype="float32")
    assert np.isfinite(fixed).all() and fixed[10, 0] == 0 and fixed[20, 1] == 0 and fixed[30, 0] == 0
    measured = run_loa(["edit", "broken.wav", "--measure"], tmp_path)
    assert measured.returncode == 0 and "3 NaN or infinite samples were measured as silence" in measured.stderr


FAST = ["--seconds", "0.5", "--steps", "1", "--seed", "3"]


def test_a_cjk_name_the_file_system_accepts_is_written(tiny_model_dir, tmp_path):
    """81 CJK characters + .wav are 247 bytes (the sidecar 252): allowed; the hidden temp name was 80 characters
    of it (240 bytes) plus the temp tag, over 255 bytes, so the run failed after the model had run."""
    name = "雨" * 81 + ".wav"
    done = run_loa(["generate", "rain", "--model", tiny_model_dir, "-o", name, *FAST], tmp_path)
    assert done.returncode == 0, done.stderr
    assert sf.info(str(tmp_path / name)).frames == 8000 and (tmp_path / (name + ".json")).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name, name + ".json"]
    longer = "雨" * 84 + ".wav"  # 256 bytes: refused before the model runs, naming the limit
    done = run_loa(["generate", "rain", "--model", tiny_model_dir, "-o", longer, *FAST], tmp_path)
    assert done.returncode == 2 and "file name too long (256 bytes, this file system allows 255)" in done.stderr


def test_a_model_whose_unet_has_only_a_bin_file_loads_without_the_librarys_line(tiny_model_dir, tmp_path):
    import shutil

    import torch
    from safetensors.torch import load_file

    model = shutil.copytree(tiny_model_dir, tmp_path / "bin-model")
    weights = model / "unet" / "diffusion_pytorch_model.safetensors"
    torch.save(load_file(str(weights)), model / "unet" / "diffusion_pytorch_model.bin")
    weights.unlink()
    done = run_loa(["generate", "rain", "--model", model, "-o", "take.wav", *FAST], tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert sf.info(str(tmp_path / "take.wav")).frames == 8000


def test_a_script_folder_may_have_a_dot_in_its_name(tiny_speech_model_dir, tmp_path):
    (tmp_path / "show.txt").write_text("Hello there.\n")
    done = run_loa(["speak", "--script", "show.txt", "-o", "my.episode/", "--model", tiny_speech_model_dir,
                    "--steps", "1", "--seed", "2"], tmp_path)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in (tmp_path / "my.episode").iterdir())
    assert written == ["01-hello-there.wav", "01-hello-there.wav.json", "show.wav", "show.wav.json"]


def test_batch_refuses_an_output_pattern_with_a_nul_or_an_over_long_name_before_rendering(tiny_model_dir, tmp_path):
    import json

    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(json.dumps({"prompt": "rain", "output": "a\u0000b"}) + "\n" +
                    json.dumps({"prompt": "snow", "output": "雨" * 84}) + "\n")
    done = run_loa(["batch", jobs, "--out", tmp_path / "takes", "--model", tiny_model_dir], tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert "line 1: output: output pattern 'a\\x00b' holds a NUL character" in lines[0]
    assert "line 2: output: output pattern" in lines[1] and "makes a name of 256 bytes" in lines[1]
    assert lines[2] == f"loa: error: 2 bad rows in {jobs}; nothing was rendered (fix them, or pass --skip-bad to " \
                       "render the good rows)."
    assert not (tmp_path / "takes").exists()


def test_batch_says_how_it_read_a_json_file_and_which_columns_are_not_settings(tiny_model_dir, tmp_path):
    jobs = tmp_path / "jobs.json"
    jobs.write_text('{"prompt": "rain", "secnds": 2}\n{"prompt": "snow"}\n')
    done = run_loa(["batch", jobs, "--out", tmp_path / "takes", "--model", tiny_model_dir, "--dry-run"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"loa: note: {jobs}: read as JSON Lines (one JSON object per line)" in done.stderr
    assert f"loa: note: {jobs}: column secnds is not a setting: carried into each file's metadata" in done.stderr
    assert len(done.stdout.splitlines()) == 2
