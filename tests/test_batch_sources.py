"""`loa batch` rows that work on audio files: continue, transform, inpaint and loop rows on the tiny model, checked
up front (line N: FIELD) like every row, rendered exactly once with the source recorded."""

import json

import numpy as np
import soundfile as sf

from core.batch.jobs import read_jobs
from core.batch.manifest import read_manifest
from core.cli.main import main

RATE = 16_000


def sources(tmp_path):
    folder = tmp_path / "clips"
    folder.mkdir()
    t = np.arange(2 * RATE) / RATE
    for name, freq in (("hum.wav", 220), ("bell.wav", 660)):
        sf.write(str(folder / name), (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32), RATE, subtype="FLOAT")
    return folder


def run(tmp_path, rows, capsys, model):
    jobs = tmp_path / "edits.csv"
    jobs.write_text(rows)
    code = main(["batch", str(jobs), "--out", str(tmp_path / "out"), "--model", str(model), "--device", "cpu",
                 "--format", "wav", "--bit-depth", "float"])
    return code, capsys.readouterr().err


def test_a_continue_batch_adds_the_seconds_to_every_source(tmp_path, capsys, tiny_model_dir):
    sources(tmp_path)
    code, err = run(tmp_path, "mode,source,seconds,count,seed,steps,output\n"
                              "continue,clips/hum.wav,0.5,2,10,2,cont/{slug}_{seed}\n"
                              "continue,clips/bell.wav,1.0,1,20,2,cont/{slug}_{seed}\n", capsys, tiny_model_dir)
    assert code == 0, err
    out = tmp_path / "out"
    records = read_manifest(out).records
    assert sorted(records) == ["cont/bell_20.wav", "cont/hum_10.wav", "cont/hum_11.wav"]
    hum = sf.read(str(tmp_path / "clips" / "hum.wav"), dtype="float32")[0]
    for name, seconds in (("cont/hum_10.wav", 2.5), ("cont/hum_11.wav", 2.5), ("cont/bell_20.wav", 3.0)):
        audio, rate = sf.read(str(out / name), dtype="float32")
        assert rate == RATE and len(audio) == int(seconds * RATE)
        sidecar = json.loads((out / (name + ".json")).read_text())
        assert sidecar["settings"]["operation"] == "continue"
        assert sidecar["settings"]["source"].endswith(name.split("/")[1].split("_")[0] + ".wav")
    audio = sf.read(str(out / "cont/hum_10.wav"), dtype="float32")[0]
    np.testing.assert_array_equal(audio[: 2 * RATE - 320], hum[: 2 * RATE - 320])  # the source, before the seam
    code, err = run(tmp_path, (tmp_path / "edits.csv").read_text(), capsys, tiny_model_dir)
    assert code == 0 and read_manifest(out).records == records  # a rerun renders nothing
    assert "3 already done" in err or "nothing to render" in err.lower() or "0 rendered" in err, err


def test_a_transform_batch_keeps_the_audio_outside_the_range(tmp_path, capsys, tiny_model_dir):
    sources(tmp_path)
    code, err = run(tmp_path, "mode,source,prompt,start,end,strength,seed,steps,output\n"
                              "transform,clips/hum.wav,a metal door,0.5,1.5,0.7,3,2,tr/{slug}_{seed}\n"
                              "transform,clips/bell.wav,rain,,,0.4,4,2,tr/{slug}_{seed}\n", capsys, tiny_model_dir)
    assert code == 0, err
    out = tmp_path / "out"
    hum = sf.read(str(tmp_path / "clips" / "hum.wav"), dtype="float32")[0]
    audio = sf.read(str(out / "tr/a-metal-door_3.wav"), dtype="float32")[0]
    assert len(audio) == len(hum)
    np.testing.assert_array_equal(audio[: RATE // 2], hum[: RATE // 2])        # outside the range: bit-exact
    np.testing.assert_array_equal(audio[3 * RATE // 2:], hum[3 * RATE // 2:])
    assert not np.array_equal(audio[RATE // 2 + 400: 3 * RATE // 2 - 400], hum[RATE // 2 + 400: 3 * RATE // 2 - 400])
    sidecar = json.loads((out / "tr/a-metal-door_3.wav.json").read_text())
    assert sidecar["settings"]["operation"] == "transform" and sidecar["settings"]["strength"] == 0.7
    assert len(sf.read(str(out / "tr/rain_4.wav"))[0]) == 2 * RATE  # no range: the whole file


def test_source_rows_are_checked_up_front_with_their_line_and_field(tmp_path, tiny_model_dir):
    folder = sources(tmp_path)
    sf.write(str(folder / "quiet.wav"), np.zeros(RATE, np.float32), RATE)
    jobs = tmp_path / "bad.csv"
    jobs.write_text("mode,source,prompt,start,end,strength,bars,seconds\n"
                    "inpaint,clips/hum.wav,,0.5,3.0,,,\n"          # 2: past the clip's end
                    "transform,clips/hum.wav,,,,0.5,,\n"            # 3: transform needs a prompt
                    "continue,clips/missing.wav,,,,,,\n"            # 4: no such file
                    "transform,clips/hum.wav,door,,,1.5,,\n"        # 5: strength out of range
                    "inpaint,clips/quiet.wav,,0.2,0.4,,,\n"         # 6: silent source
                    "loop,clips/hum.wav,,,,,1,0.5\n"                # 7: bars and seconds
                    "continue,clips/hum.wav,,0.2,,,,\n"             # 8: start is not for continue
                    "inpaint,clips/hum.wav,,0.5,1.0,,,\n"           # 9: fine
                    "loop,clips/hum.wav,,,,,,\n")                   # 10: fine: close the loop
    job = read_jobs(jobs, default_model=str(tiny_model_dir))
    problems = {e.line: (e.field, e.message) for e in job.errors}
    assert sorted(problems) == [2, 3, 4, 5, 6, 7, 8]
    assert "start < end <= 2.000" in problems[2][1]
    assert problems[3][0] == "prompt"
    assert problems[4] == ("source", f"source file not found: {folder / 'missing.wav'}")
    assert problems[5][0] == "strength"
    assert problems[6][0] == "source" and "silent" in problems[6][1]
    assert problems[7][0] == "seconds" and problems[8][0] == "start"
    assert [(r.line, r.mode, r.start, r.end) for r in job.rows] == [(9, "inpaint", 0.5, 1.0), (10, "loop", None, None)]
