"""`loa speak --format/--bit-depth/--rate` (one take, or a script's folder): the Export dialog's formats, checked
before the model loads; the tiny speech model renders; without the flags the files are 24-bit WAV at 16 kHz (the generated-take rule)."""

import json

import pytest
import soundfile as sf

from core.audio.clip import load_clip
from core.cli.main import main

FAST = ["--steps", "2", "--guidance", "2"]
SCRIPT = "@voice host: a calm male narrator\n[host] Hello and welcome.\n\n[host] See you soon.\n"


def run(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def info(path):
    found = sf.info(str(path))
    return found.format, found.subtype, found.samplerate


def test_a_script_folder_in_flac_24_bit_at_48k_then_the_rerun_skips_it(tiny_speech_model_dir, tmp_path, capsys):
    script = tmp_path / "show.txt"
    script.write_text(SCRIPT)
    out = tmp_path / "takes"
    argv = ["speak", "--script", script, "-o", out, "--pause", "0.5", "--seed", 9, "--json", "--model", tiny_speech_model_dir, *FAST,
            "--format", "flac", "--bit-depth", "24", "--rate", "48000"]
    code, stdout, err = run(capsys, *argv)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["path"] == str(out / "show.flac")
    names = sorted(p.name for p in out.iterdir() if p.suffix == ".flac")
    assert names == ["01-hello-and-welcome.flac", "02-see-you-soon.flac", "show.flac"]
    assert {info(out / n) for n in names} == {("FLAC", "PCM_24", 48_000)}
    lines = [load_clip(out / n) for n in names[:2]]
    joined = load_clip(out / "show.flac")
    assert joined.frames == sum(c.frames for c in lines) + 48_000  # the doubled pause (1 s) at 48 kHz

    code, stdout, err = run(capsys, *argv)
    assert code == 0, err
    assert [line["rendered"] for line in json.loads(stdout)["lines"]] == [False, False]


def test_one_take_with_a_bit_depth_and_rate_and_the_unchanged_default(tiny_speech_model_dir, tmp_path, capsys):
    code, _, err = run(capsys, "speak", "Hello there.", "-o", tmp_path / "plain.wav", "--seed", 3,
                       "--model", tiny_speech_model_dir, *FAST)
    assert code == 0, err
    assert info(tmp_path / "plain.wav") == ("WAV", "PCM_24", 16_000)
    code, stdout, err = run(capsys, "speak", "Hello there.", "-o", tmp_path / "hi.aiff", "--seed", 3,
                            "--bit-depth", "float", "--rate", "44100", "--model", tiny_speech_model_dir, *FAST)
    assert code == 0, err
    assert info(tmp_path / "hi.aiff") == ("AIFF", "FLOAT", 44_100)


@pytest.mark.parametrize("argv, message", [
    (["Hello.", "--format", "opus", "--rate", "44100"], "Opus cannot hold 44.1 kHz audio"),
    (["Hello.", "-o", "x.mp3", "--bit-depth", "24"], "MP3 is lossy and has no bit depth"),
    (["Hello.", "-o", "x.wav", "--format", "flac"], "-o x.wav and --format flac disagree"),
    (["--script", "s.txt", "--format", "ogg", "--bit-depth", "16"], "Ogg Vorbis is lossy"),
    (["--script", "s.txt", "--format", "flac", "--bit-depth", "float"], "FLAC cannot hold 32-bit float"),
    (["Hello.", "--bit-depth", "20"], "bit depth '20' is not offered"),
])
def test_impossible_formats_exit_2_before_the_model_loads(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.txt").write_text("Hello.\n")
    code, _, err = run(capsys, "speak", *argv, "--model", tmp_path / "no-model")
    assert code == 2 and message in err, err
    assert "Traceback" not in err and not list(tmp_path.glob("*.wav")) and not (tmp_path / "s").exists()
