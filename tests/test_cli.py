"""The `loa` CLI contract: outputs, JSON, exit codes, one-line errors."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from audio_services import service_missing
from hf_cache import install_into_cache

from core.audio.clip import load_clip, read_tags
from core.audio.provenance import read_sidecar
from core.cli.main import main
from core.models.catalog import CATALOG

FAST = ["--seconds", "1", "--steps", "2"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_generate_writes_a_wav_with_provenance(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "door.wav"
    code, stdout, err = run(capsys, "generate", "metal door slam", "--model", str(tiny_model_dir),
                            "-o", str(out), "--seed", "11", *FAST)
    assert code == 0, err
    assert stdout.strip() == str(out)
    clip = load_clip(out)
    assert (clip.sample_rate, clip.channels, clip.frames) == (16_000, 1, 16_000)
    assert read_tags(out)["title"] == "metal door slam"
    sidecar = read_sidecar(out)
    assert sidecar["seed"] == 11 and sidecar["settings"]["steps"] == 2 and sidecar["settings"]["candidates"] == 1


def test_several_candidates_are_written_best_first_as_json(tiny_model_dir, tmp_path, capsys):
    code, stdout, err = run(capsys, "generate", "rain", "--model", str(tiny_model_dir), "-o",
                            str(tmp_path / "rain.flac"), "--candidates", "3", "--seed", "7", "--json", *FAST)
    assert code == 0, err
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(tmp_path / f"rain-{i}.flac") for i in (1, 2, 3)]
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert sorted(r["seed"] for r in rows) == [7, 8, 9]
    for r in rows:
        assert load_clip(r["path"]).frames == 16_000
        assert r["settings"]["seed"] == r["seed"]


def test_the_seed_in_the_json_reproduces_the_file(tiny_model_dir, tmp_path, capsys):
    code, stdout, _ = run(capsys, "generate", "wind", "--model", str(tiny_model_dir), "-o",
                          str(tmp_path / "a.wav"), "--json", *FAST)
    seed = json.loads(stdout)["seed"]
    run(capsys, "generate", "wind", "--model", str(tiny_model_dir), "-o", str(tmp_path / "b.wav"),
        "--seed", str(seed), *FAST)
    assert np.array_equal(load_clip(tmp_path / "a.wav").samples, load_clip(tmp_path / "b.wav").samples)


def test_default_file_name_is_a_prompt_slug_and_seed(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, _ = run(capsys, "generate", "Rain on a tin roof!", "--model", str(tiny_model_dir),
                          "--seed", "3", *FAST)
    assert code == 0 and stdout.strip() == "rain-on-a-tin-roof_s3.wav"
    assert (tmp_path / "rain-on-a-tin-roof_s3.wav").is_file()


@pytest.mark.parametrize("args, words", [
    (["--seconds", "0"], "seconds must be"),
    (["--steps", "0"], "steps must be"),
    (["--guidance", "nan"], "guidance must be a finite number"),
    (["--candidates", "0"], "candidates must be"),
])
def test_bad_values_exit_2_with_one_line(tiny_model_dir, capsys, args, words):
    code, _, err = run(capsys, "generate", "rain", "--model", str(tiny_model_dir), *args)
    assert code == 2
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


def test_empty_prompt_exits_2(tiny_model_dir, capsys):
    code, _, err = run(capsys, "generate", "  ", "--model", str(tiny_model_dir))
    assert code == 2 and "prompt is empty" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["generate"])
    assert info.value.code == 2


def test_offline_without_the_model_exits_3_and_says_what_to_do(capsys):
    code, _, err = run(capsys, "generate", "rain", *FAST)
    assert code == 3
    assert "cvssp/audioldm2" in err and "loa models download cvssp/audioldm2" in err and "--model" in err
    assert err.count("\n") == 1


def test_a_broken_model_folder_exits_3_naming_the_gap(tiny_model_dir, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "vae" / "diffusion_pytorch_model.safetensors").unlink()
    code, _, err = run(capsys, "generate", "rain", "--model", str(broken), *FAST)
    assert code == 3 and "vae/ weights" in err


def test_unwritable_output_format_exits_2(tiny_model_dir, tmp_path, capsys):
    code, _, err = run(capsys, "generate", "rain", "--model", str(tiny_model_dir), "-o",
                       str(tmp_path / "x.mp4"), *FAST)
    assert code == 2 and "unknown extension" in err


def test_models_list_shows_catalog_and_what_is_installed(tiny_model_dir, hf_home, capsys):
    install_into_cache(tiny_model_dir, "cvssp/audioldm2-music", hf_home)
    code, stdout, _ = run(capsys, "models", "list", "--json")
    rows = {r["id"]: r for r in json.loads(stdout)}
    assert code == 0 and set(rows) == set(CATALOG)  # every catalog model, the 48 kHz one included
    assert {"cvssp/audioldm2", "audioldm_48k"} <= set(rows)
    assert rows["audioldm_48k"]["sample_rate"] == 48000 and rows["cvssp/audioldm2"]["sample_rate"] == 16000
    assert rows["cvssp/audioldm2-music"]["installed"] and not rows["cvssp/audioldm2"]["installed"]
    assert rows["cvssp/audioldm2"]["licence"] == "CC-BY-NC-SA-4.0"
    code, table, _ = run(capsys, "models", "list")
    assert "cvssp/audioldm2-large" in table and "6.0 GB" in table


def test_a_model_id_from_the_cache_generates(tiny_model_dir, hf_home, tmp_path, capsys):
    install_into_cache(tiny_model_dir, "cvssp/audioldm2", hf_home)
    out = tmp_path / "x.wav"
    code, _, err = run(capsys, "generate", "rain", "-o", str(out), "--json", *FAST)
    assert code == 0, err
    assert read_sidecar(out)["licence"] == "CC-BY-NC-SA-4.0"
    assert "CC-BY-NC-SA-4.0" in read_tags(out)["copyright"]


def test_download_offline_exits_3(capsys):
    code, _, err = run(capsys, "models", "download", "cvssp/audioldm2")
    assert code == 3 and "HF_HUB_OFFLINE" in err


def test_the_installed_console_script_runs(tiny_model_dir, tmp_path):
    loa = shutil.which("loa")
    if loa is None:  # under CI=true a missing entry point is a broken install: it fails
        service_missing("the loa console script is not installed (pip install -e .)")
    out = tmp_path / "s.wav"
    done = subprocess.run([loa, "generate", "a piano melody", "--model", str(tiny_model_dir), "-o", str(out),
                           *FAST], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out) and load_clip(out).frames == 16_000
    assert "Traceback" not in done.stderr and "Warning" not in done.stderr
    missing = subprocess.run([loa, "generate", "rain"], capture_output=True, text=True, timeout=120)
    assert missing.returncode == 3 and missing.stderr.startswith("loa: error: Model cvssp/audioldm2")


def test_module_entry_point_prints_version():
    done = subprocess.run([sys.executable, "-m", "core.cli.main", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("loa ")
