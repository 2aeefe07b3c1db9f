"""Job files: every bad row is reported with its line and field before any model work; good rows are parsed
into deterministic names with extra columns carried along."""

import json
import sys

import pytest
from audio_services import require_module

from core.batch.jobs import read_jobs
from core.cli.main import main


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_bad_row_is_reported_with_line_and_field(tiny_model_dir, tmp_path):
    jobs = write(tmp_path, "sheet.csv",
                 "prompt,seconds,count,seed,model,steps,output,category\n"
                 f"rain on a tin roof,1,3,10,{tiny_model_dir},1,{{category}}/{{slug}}_{{seed}},weather\n"
                 f",1,1,,{tiny_model_dir},1,,x\n"                        # 3: empty prompt
                 f"wind,75,1,,{tiny_model_dir},1,,x\n"                   # 4: seconds out of range
                 "wind,1,1,,no-such-model,1,,x\n"                        # 5: unknown model
                 f"wind,1,,9-3,{tiny_model_dir},1,,x\n"                  # 6: seed range backwards
                 f"wind,1,2,1-5,{tiny_model_dir},1,,x\n"                 # 7: range and count disagree
                 f"wind,1,1,,{tiny_model_dir},many,,x\n"                 # 8: steps not a number
                 f"wind,1,1,,{tiny_model_dir},1,{{genre}}/{{slug}},x\n"  # 9: unknown pattern name
                 f"wind,1,1,,{tiny_model_dir},1,../{{slug}},x\n")        # 10: pattern leaves --out
    job = read_jobs(jobs)
    found = [(e.line, e.field) for e in job.errors]
    assert found == [(3, "prompt"), (4, "seconds"), (5, "model"), (6, "seed"), (7, "seed"), (8, "steps"),
                     (9, "output"), (10, "output")], job.errors
    assert "75" in str(job.errors[1]) and "9-3" in str(job.errors[3]) and "{genre}" in str(job.errors[6])
    (row,) = job.rows
    assert row.line == 2 and list(row.seeds) == [10, 11, 12] and row.extra == {"category": "weather"}
    assert str(row.relative_path(11)) == "weather/rain-on-a-tin-roof_11.wav"


def test_jsonl_rows_seed_ranges_and_defaults(tiny_model_dir, tmp_path):
    jobs = write(tmp_path, "sheet.jsonl", "\n".join([
        json.dumps({"prompt": "footsteps on gravel", "seed": "100-103", "seconds": 0.5, "model": str(tiny_model_dir),
                    "output": "{slug}/{index}.flac", "take": "A"}),
        "{not json",
        json.dumps({"prompt": "rain", "model": str(tiny_model_dir), "count": 2}),
        json.dumps(["a list"]),
    ]) + "\n")
    job = read_jobs(jobs)
    assert [(e.line, e.field) for e in job.errors] == [(2, "row"), (4, "row")]
    first, second = job.rows
    assert first.count == 4 and first.seed == 100 and first.extra == {"take": "A"}
    assert str(first.relative_path(103)) == "footsteps-on-gravel/4.flac"
    assert second.count == 2 and second.seconds == 10.0 and second.steps == 25
    assert read_jobs(jobs).rows[1].seed == second.seed  # no seed given: the same one on every read


def test_two_rows_naming_the_same_file_are_refused(tiny_model_dir, tmp_path):
    jobs = write(tmp_path, "sheet.csv", "prompt,seed,model,output\n"
                 f"rain,1,{tiny_model_dir},rain\nRain,2,{tiny_model_dir},rain\n")
    job = read_jobs(jobs)
    assert [(e.line, e.field) for e in job.errors] == [(3, "output")] and "line 2" in job.errors[0].message


def test_cli_exits_2_and_renders_nothing_with_a_bad_row(tiny_model_dir, tmp_path, capsys):
    jobs = write(tmp_path, "sheet.csv", "prompt,seconds,steps\nrain,0.5,1\n,0.5,1\nwind,-1,1\n")
    out = tmp_path / "out"
    assert main(["batch", str(jobs), "--out", str(out), "--model", str(tiny_model_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].endswith("line 3: prompt: prompt is empty; describe the sound, e.g. \"rain on a tin roof\"")
    assert "line 4: seconds:" in err[1]
    assert err[2] == ("loa: error: 2 bad rows in " + str(jobs) + "; nothing was rendered (fix them, or pass "
                      "--skip-bad to render the good rows).")
    assert not out.exists()


def test_cli_missing_model_exits_3(tmp_path, capsys):
    jobs = write(tmp_path, "sheet.csv", "prompt,model\nrain,cvssp/audioldm2\n")
    assert main(["batch", str(jobs), "--out", str(tmp_path / "out")]) == 3
    assert "loa models download cvssp/audioldm2" in capsys.readouterr().err


def test_ray_mode_without_ray_says_how_to_install(tmp_path, monkeypatch, capsys):
    jobs = write(tmp_path, "sheet.csv", "prompt\nrain\n")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError, as without the extra
    assert main(["batch", str(jobs), "--out", str(tmp_path / "out"), "--ray", "auto"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'loa-studio[cluster]'" in err and err.count("\n") == 1


@pytest.mark.parametrize("text", ["", "prompt\n"])
def test_an_empty_job_file_is_a_clear_error(tmp_path, capsys, text):
    jobs = write(tmp_path, "sheet.csv", text)
    assert main(["batch", str(jobs), "--out", str(tmp_path / "out")]) == 2
    assert "has no rows" in capsys.readouterr().err


def test_ray_address_where_no_cluster_answers_is_a_quick_clear_error(tmp_path, capsys):
    require_module("ray", "Ray mode needs the cluster extra (.ci/run installs it)")
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    jobs = write(tmp_path, "sheet.csv", "prompt\nrain\n")
    assert main(["batch", str(jobs), "--out", str(tmp_path / "out"), "--ray", f"127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert f"no Ray cluster answers at 127.0.0.1:{port}" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
