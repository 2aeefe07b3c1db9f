"""`loa batch --format/--bit-depth/--rate`: the Export dialog's formats for batch files, checked like the dialog
(one line, exit 2, nothing rendered), rendered on the tiny model; without the flags the files are WAV at the model's
16 kHz, 24-bit (the generated-take rule), and a rerun still finds them done."""

import json

import pytest
import soundfile as sf

from core.cli.main import main


def job_file(tmp_path, pattern="{slug}_{seed}"):
    path = tmp_path / "sfx.csv"
    path.write_text(f"prompt,seconds,count,seed,steps,output\nrain on a tin roof,0.5,2,10,1,{pattern}\n")
    return path


def batch(tmp_path, model, capsys, *extra):
    code = main(["batch", str(tmp_path / "sfx.csv"), "--out", str(tmp_path / "out"), "--model", str(model),
                 "--device", "cpu", "--batch-size", "2", *extra])
    return code, capsys.readouterr().err


def infos(out):
    return {p.name: (sf.info(str(p)).format, sf.info(str(p)).subtype, sf.info(str(p)).samplerate)
            for p in sorted(out.iterdir()) if p.suffix not in (".json", ".jsonl", ".lock")}


def test_format_bit_depth_and_rate_reach_every_file_and_default_is_unchanged(tiny_model_dir, tmp_path, capsys):
    job_file(tmp_path)
    out = tmp_path / "out"
    code, err = batch(tmp_path, tiny_model_dir, capsys)
    assert code == 0, err
    assert infos(out) == {"rain-on-a-tin-roof_10.wav": ("WAV", "PCM_24", 16_000),
                          "rain-on-a-tin-roof_11.wav": ("WAV", "PCM_24", 16_000)}

    code, err = batch(tmp_path, tiny_model_dir, capsys, "--format", "flac", "--bit-depth", "24", "--rate", "48000")
    assert code == 0, err
    assert "2 rendered, 0 already done" in err
    flacs = {k: v for k, v in infos(out).items() if k.endswith(".flac")}
    assert flacs == {"rain-on-a-tin-roof_10.flac": ("FLAC", "PCM_24", 48_000),
                     "rain-on-a-tin-roof_11.flac": ("FLAC", "PCM_24", 48_000)}
    assert sf.info(str(out / "rain-on-a-tin-roof_10.flac")).frames == 24_000  # 0.5 s at 48 kHz
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()[1:]]  # after the header
    flac_record = next(r for r in records if r["path"].endswith("_10.flac"))
    assert flac_record["settings"]["bit_depth"] == "pcm24" and flac_record["settings"]["rate"] == 48_000

    code, err = batch(tmp_path, tiny_model_dir, capsys)  # the first run's WAVs are still vouched for
    assert code == 0 and "0 rendered, 2 already done" in err
    code, err = batch(tmp_path, tiny_model_dir, capsys, "--format", "flac", "--bit-depth", "pcm24", "--rate", "48000")
    assert code == 0 and "0 rendered, 2 already done" in err

    code, err = batch(tmp_path, tiny_model_dir, capsys, "--format", "mp3", "--rate", "44100")
    assert code == 0, err
    mp3 = infos(out)["rain-on-a-tin-roof_11.mp3"]
    assert mp3[0] == "MP3" and mp3[2] == 44_100


@pytest.mark.parametrize("flags, says", [
    (["--format", "opus", "--rate", "44100"], "Opus cannot hold 44.1 kHz audio"),
    (["--format", "mp3", "--bit-depth", "24"], "MP3 is lossy and has no bit depth"),
    (["--format", "flac", "--bit-depth", "float"], "FLAC cannot hold 32-bit float samples"),
    (["--rate", "5"], "export sample rate 5 is not possible"),
    (["--bit-depth", "12"], "bit depth '12' is not offered"),
    (["--format", "wma"], "invalid choice: 'wma'"),
])
def test_impossible_choices_exit_2_before_any_work(tmp_path, capsys, flags, says):
    job_file(tmp_path)
    try:
        code = main(["batch", str(tmp_path / "sfx.csv"), "--out", str(tmp_path / "out"), *flags])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and says in err, err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_a_pattern_extension_keeps_its_container_and_a_conflict_is_a_row_error(tiny_model_dir, tmp_path, capsys):
    job_file(tmp_path, "{slug}_{seed}.mp3")
    code = main(["batch", str(tmp_path / "sfx.csv"), "--out", str(tmp_path / "out"), "--model",
                 str(tiny_model_dir), "--bit-depth", "24"])
    err = capsys.readouterr().err
    assert code == 2 and "line 2: output: rain-on-a-tin-roof_10.mp3: MP3 is lossy and has no bit depth" in err, err

    code, err = batch(tmp_path, tiny_model_dir, capsys, "--format", "flac")  # the row's .mp3 wins over --format
    assert code == 0, err
    assert set(infos(tmp_path / "out")) == {"rain-on-a-tin-roof_10.mp3", "rain-on-a-tin-roof_11.mp3"}
