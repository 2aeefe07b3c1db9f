"""`loa batch` in local mode, end to end on the tiny model: every variation exactly once, a complete manifest,
a rerun that renders nothing, deleted/truncated files and changed rows re-rendered."""

import json
import os

import soundfile as sf

from core.batch.jobs import read_jobs
from core.batch.manifest import file_sha256
from core.batch.plan import plan_batch
from core.cli.main import main

EXPECTED = ["doors/door-slam_5.wav", "doors/door-slam_6.wav", "weather/rain-on-a-tin-roof_10.wav",
            "weather/rain-on-a-tin-roof_11.wav", "weather/rain-on-a-tin-roof_12.wav"]


def job_file(tmp_path, door_steps=1):
    path = tmp_path / "sfx.csv"
    path.write_text("prompt,seconds,count,seed,steps,output,category,take\n"
                    "rain on a tin roof,0.5,3,10,1,{category}/{slug}_{seed},weather,A\n"
                    f"door slam,0.5,,5-6,{door_steps},{{category}}/{{slug}}_{{seed}},doors,B\n")
    return path


def batch(tmp_path, model, capsys, *extra):
    code = main(["batch", str(tmp_path / "sfx.csv"), "--out", str(tmp_path / "out"), "--model", str(model),
                 "--device", "cpu", "--batch-size", "2", *extra])
    return code, capsys.readouterr().err


def manifest(out):
    header, *records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert header["loa_batch_manifest"] == 1  # marks the file as ours
    return records


def audio_files(out):
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.suffix in (".wav", ".flac", ".ogg"))


def check_complete(out):
    records = manifest(out)
    assert sorted(r["path"] for r in records) == EXPECTED  # one record per file, none twice
    assert audio_files(out) == EXPECTED
    for record in records:
        assert file_sha256(out / record["path"]) == record["sha256"]
        sidecar = json.loads((out / (record["path"] + ".json")).read_text())
        assert sidecar["seed"] == record["seed"] and sidecar["settings"]["batch"] == "sfx"
    assert not [p for p in out.rglob(".*") if p.name != ".loa-batch.lock"]  # no temp file left
    return {r["path"]: r for r in records}


def test_local_batch_renders_each_variation_once_and_resumes(tiny_model_dir, tmp_path, capsys):
    job_file(tmp_path)
    out = tmp_path / "out"
    code, err = batch(tmp_path, tiny_model_dir, capsys)
    assert code == 0, err
    assert "5/5 files" in err and "files/min" in err and "audio s/s" in err and "ETA" in err
    assert "batch done: 5 rendered, 0 already done" in err
    records = check_complete(out)
    rain = records["weather/rain-on-a-tin-roof_11.wav"]
    assert rain["line"] == 2 and rain["prompt"] == "rain on a tin roof" and rain["seed"] == 11
    assert rain["metadata"] == {"category": "weather", "take": "A"} and rain["settings"]["steps"] == 1
    assert rain["model"] == str(tiny_model_dir) and rain["licence"] and isinstance(rain["score"], float)
    assert sf.info(str(out / rain["path"])).frames == 8000
    # candidates of one row were rendered as one denoising batch each (batch size 2: seeds 10-11, then 12)
    assert plan_batch(read_jobs(tmp_path / "sfx.csv", str(tiny_model_dir)), tmp_path / "fresh", write=False,
                      max_batch=2).units[0].seeds == (10, 11)

    mtimes = {p: os.stat(out / p).st_mtime_ns for p in EXPECTED}
    code, err = batch(tmp_path, tiny_model_dir, capsys)
    assert code == 0 and "batch done: 0 rendered, 5 already done" in err
    assert {p: os.stat(out / p).st_mtime_ns for p in EXPECTED} == mtimes

    (out / EXPECTED[0]).unlink()  # deleted
    truncated = out / EXPECTED[3]
    truncated.write_bytes(truncated.read_bytes()[:100])  # partial
    code, err = batch(tmp_path, tiny_model_dir, capsys)
    assert code == 0 and "batch done: 2 rendered, 3 already done" in err
    after = check_complete(out)
    assert after[EXPECTED[3]]["seed"] == 11  # check_complete: its sha256 matches the whole re-rendered file
    assert sf.info(str(truncated)).frames == 8000
    assert os.stat(out / EXPECTED[2]).st_mtime_ns == mtimes[EXPECTED[2]]

    job_file(tmp_path, door_steps=2)  # the door row changed: its two files again, under the new settings
    code, err = batch(tmp_path, tiny_model_dir, capsys)
    assert code == 0 and "batch done: 2 rendered, 3 already done" in err
    after = check_complete(out)
    assert [after[p]["settings"]["steps"] for p in EXPECTED] == [2, 2, 1, 1, 1]


def test_dry_run_lists_and_writes_nothing(tiny_model_dir, tmp_path, capsys):
    job_file(tmp_path)
    code = main(["batch", str(tmp_path / "sfx.csv"), "--out", str(tmp_path / "out"), "--model",
                 str(tiny_model_dir), "--dry-run"])
    captured = capsys.readouterr()
    assert code == 0 and not (tmp_path / "out").exists()
    listed = [line.split("\t")[0] for line in captured.out.splitlines()]
    assert sorted(listed) == sorted(str(tmp_path / "out" / p) for p in EXPECTED)
    assert "dry run: 5 files to render, 0 already done" in captured.err


def test_a_bars_row_renders_bar_locked_takes(tiny_model_dir, tmp_path, capsys):
    (tmp_path / "loops.jsonl").write_text(json.dumps(
        {"mode": "music", "prompt": "a piano melody", "bars": 1, "bpm": 120, "steps": 1, "seed": "7-8",
         "model": str(tiny_model_dir), "output": "loops/{slug}_{seed}.flac"}) + "\n")
    out = tmp_path / "out"
    assert main(["batch", str(tmp_path / "loops.jsonl"), "--out", str(out), "--device", "cpu"]) == 0, \
        capsys.readouterr().err
    for seed in (7, 8):
        path = out / f"loops/a-piano-melody_{seed}.flac"
        assert sf.info(str(path)).frames == 32000  # exactly one 4/4 bar at 120 BPM, 16 kHz
        assert json.loads((out / f"loops/a-piano-melody_{seed}.flac.json").read_text())["settings"]["bpm"] == 120
