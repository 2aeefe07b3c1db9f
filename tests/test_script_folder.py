"""Script mode into a folder: checked up front, each line written as it completes, reruns skip finished lines."""

import json

import numpy as np
import pytest

from core.audio.clip import load_clip
from core.cli.main import main
from core.errors import Cancelled
from core.speech import SpeechRequest, parse_script
from core.speech.script_folder import plan_script, render_plan

FAST = dict(steps=2, guidance=2.0)
SCRIPT = "@voice host: a calm male narrator\n[host] Hello and welcome.\nSee you soon.\n[host] Bye now.\n"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_files_are_numbered_to_the_scripts_width(tmp_path):
    script = parse_script("\n".join(f"Line number {i}." for i in range(1, 101)), "a voice")
    plan = plan_script(script, SpeechRequest("", seed=1, **FAST), tmp_path / "out", "show", "model")
    names = [p.path.name for p in plan.lines]
    assert names[0] == "001-line-number-1.wav" and names[99] == "100-line-number-100.wav"
    assert names == sorted(names)
    assert not (tmp_path / "out").exists()  # planning writes nothing


def test_every_line_is_checked_before_any_model_work(tmp_path, capsys):
    script = tmp_path / "s.txt"
    script.write_text("Hello.\nFine.\n" + "word " * 300 + "\n")
    code, _, err = run(capsys, "speak", "--script", script, "--model", tmp_path / "no-model")
    assert code == 2 and err.startswith("loa: error: script line 3:") and "60 s" in err and err.count("\n") == 1
    bad_pause = tmp_path / "p.txt"
    bad_pause.write_text("Hello.\n")
    code, _, err = run(capsys, "speak", "--script", bad_pause, "--pause", "99", "--model", tmp_path / "no-model")
    assert code == 2 and "pause must be" in err


def test_a_cancelled_script_keeps_finished_lines_and_the_rerun_skips_them(tiny_speech_engine, tmp_path):
    script = parse_script(SCRIPT, "a voice")
    settings = SpeechRequest("", **FAST)  # no seed: the rerun must find the first run's seed itself
    folder = tmp_path / "show"
    plan = plan_script(script, settings, folder, "show", "tiny")
    first_line = plan.lines[0].path
    with pytest.raises(Cancelled):
        render_plan(tiny_speech_engine, plan, settings, cancel=lambda: first_line.exists())
    assert sorted(p.name for p in folder.iterdir()) == [first_line.name, first_line.name + ".json"]
    kept = first_line.stat()

    again = plan_script(script, settings, folder, "show", "tiny")
    assert again.seed == plan.seed and again.seed_from_earlier_run
    assert [p.done for p in again.lines] == [True, False, False]
    joined, records, _ = render_plan(tiny_speech_engine, again, settings)
    assert [r["rendered"] for r in records] == [False, True, True]
    assert (first_line.stat().st_ino, first_line.stat().st_mtime_ns) == (kept.st_ino, kept.st_mtime_ns)
    # The resumed script equals one rendered in a single run with that seed.
    whole = tmp_path / "whole"
    single = plan_script(script, SpeechRequest("", seed=plan.seed, **FAST), whole, "show", "tiny")
    render_plan(tiny_speech_engine, single, SpeechRequest("", seed=plan.seed, **FAST))
    for name in ["show.wav"] + [p.path.name for p in plan.lines]:
        assert np.array_equal(load_clip(folder / name).samples, load_clip(whole / name).samples), name
    assert json.loads((folder / "show.wav.json").read_text())["settings"]["lines"][2]["text"] == "Bye now."
    # Everything done: nothing to render, no engine needed.
    done = plan_script(script, settings, folder, "show", "tiny")
    assert not done.pending and done.joined_done
    assert render_plan(None, done, settings)[0] == folder / "show.wav"


def test_cli_rerun_resumes_and_other_settings_need_overwrite(tiny_speech_model_dir, tmp_path, capsys):
    script = tmp_path / "show.txt"
    script.write_text(SCRIPT)
    out = tmp_path / "takes"
    base = ["speak", "--script", script, "-o", out, "--steps", "2", "--guidance", "2", "--json"]
    code, stdout, err = run(capsys, *base, "--model", tiny_speech_model_dir)
    assert code == 0, err
    first = json.loads(stdout)
    assert [line["rendered"] for line in first["lines"]] == [True, True, True]
    lost = out / "02-see-you-soon.wav"
    reference = load_clip(lost).samples
    for path in (lost, out / "02-see-you-soon.wav.json", out / "show.wav", out / "show.wav.json"):
        path.unlink()
    code, stdout, err = run(capsys, *base, "--model", tiny_speech_model_dir)
    assert code == 0, err
    assert "2 of 3 lines are already rendered" in err and f"seed {first['seed']} from the earlier run" in err
    assert [line["rendered"] for line in json.loads(stdout)["lines"]] == [False, True, False]
    assert np.array_equal(load_clip(lost).samples, reference)
    # Other settings (here another model) would replace the files: refused before the model loads.
    code, _, err = run(capsys, *base, "--model", tmp_path / "no-model")
    assert code == 2 and "rendered with other settings; pass --overwrite" in err and err.count("\n") == 1
    # An edited line: with --overwrite only that line (and the joined file) is rendered again.
    script.write_text(SCRIPT.replace("See you soon.", "See you later."))
    code, stdout, err = run(capsys, *base, "--overwrite", "--model", tiny_speech_model_dir)
    assert code == 0, err
    rows = json.loads(stdout)["lines"]
    assert [line["rendered"] for line in rows] == [False, True, False]
    assert rows[1]["path"].endswith("02-see-you-later.wav")
