"""`loa speak`: a line in a described voice, a whole script, and clear errors with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from core.audio.clip import load_clip, read_tags
from core.audio.provenance import read_sidecar
from core.cli.main import main

FAST = ["--steps", "2", "--guidance", "2"]



def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_speak_writes_the_line_in_the_described_voice(tiny_speech_model_dir, tmp_path, capsys):
    out = tmp_path / "intro.wav"
    code, stdout, err = run(capsys, "speak", "Welcome to episode 3!", "--voice", "a female reporter is speaking",
                            "--model", tiny_speech_model_dir, "--seed", 5, "-o", out, *FAST)
    assert code == 0, err
    assert stdout.strip() == str(out)
    sidecar = read_sidecar(out)
    assert sidecar["prompt"] == "a female reporter is speaking" and sidecar["seed"] == 5
    assert sidecar["settings"]["transcription"] == "Welcome to episode three!"
    assert sidecar["settings"]["text"] == "Welcome to episode 3!"
    # 0.6 s + 21 letters / 12 = 2.35 -> 2.4 s, derived from the words.
    assert load_clip(out).frames == int(2.4 * 16000)
    assert read_tags(out)["title"] == "a female reporter is speaking"


def test_speak_a_preset_voice_as_json_reproducible_by_seed(tiny_speech_model_dir, tmp_path, capsys):
    code, stdout, err = run(capsys, "speak", "Doors open at eight.", "--preset", "announcer, bright", "--json",
                            "--model", tiny_speech_model_dir, "--seconds", "1.2", "-o", tmp_path / "a.flac", *FAST)
    assert code == 0, err
    row = json.loads(stdout)
    assert row["settings"]["prompt"] == "an energetic female announcer, close microphone"
    assert row["settings"]["negative_prompt"] == "noise, music" and row["settings"]["steps"] == 2
    code, _, err = run(capsys, "speak", "Doors open at eight.", "--preset", "announcer, bright", "--seed",
                       row["seed"], "--model", tiny_speech_model_dir, "--seconds", "1.2", "-o", tmp_path / "b.flac",
                       *FAST)
    assert code == 0, err
    assert np.array_equal(load_clip(tmp_path / "a.flac").samples, load_clip(tmp_path / "b.flac").samples)


def test_speak_a_script_into_a_folder(tiny_speech_model_dir, tmp_path, capsys):
    script = tmp_path / "show.txt"
    script.write_text("@voice host: a calm male narrator\n[host] Hello and welcome.\n\n[host] See you soon.\n")
    out = tmp_path / "takes"
    code, stdout, err = run(capsys, "speak", "--script", script, "-o", out, "--pause", "0.5", "--json",
                            "--seed", 9, "--model", tiny_speech_model_dir, *FAST)
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["path"] == str(out / "show.wav") and summary["seed"] == 9
    files = sorted(p.name for p in out.glob("*.wav"))
    assert files == ["01-hello-and-welcome.wav", "02-see-you-soon.wav", "show.wav"]
    lines = [load_clip(out / name) for name in files[:2]]
    joined = load_clip(out / "show.wav")
    assert joined.frames == sum(c.frames for c in lines) + 16000  # one doubled pause (blank line)
    assert [entry["start"] for entry in summary["lines"]] == pytest.approx([0.0, lines[0].seconds + 1.0])
    assert read_sidecar(out / "show.wav")["settings"]["lines"][1]["text"] == "See you soon."


def _silence(path):
    sf.write(str(path), np.zeros(48000, np.float32), 48000)
    return path


@pytest.mark.parametrize("argv, message", [
    ([], "give the words to say"),
    (["Hello.", "--script", "x.txt"], "not both"),
    (["你好"], "English"),
    (["..."], "nothing speakable"),
    (["Hello.", "--reference", "ref.wav"], "go together"),
    (["Hello.", "--preset", "nobody"], "no speech preset"),
    (["Hello.", "--steps", "0"], "steps must be"),
    (["Hello.", "--seconds", "90"], "at most 60"),
    (["--script", "x.txt", "--seconds", "2"], "each line's length follows its words"),
    (["--script", "missing.txt"], "script not found"),
])
def test_bad_input_exits_2_before_the_model_loads(tmp_path, capsys, argv, message):
    # The model does not exist: these errors must come before any model work.
    code, _, err = run(capsys, "speak", *argv, "--model", tmp_path / "no-model")
    assert code == 2, err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_references_and_scripts_exit_2(tmp_path, capsys, corpus_files):
    silent = _silence(tmp_path / "silent.wav")
    code, _, err = run(capsys, "speak", "Hello.", "--reference", silent, "--reference-text", "hi",
                       "--model", tmp_path / "no-model")
    assert code == 2 and "at least 1 s" in err
    tone = next(p for p in corpus_files if p.name.startswith("phone_busy"))
    code, _, err = run(capsys, "speak", "Hello.", "--reference", tone, "--reference-text", "hi",
                       "--model", tmp_path / "no-model")
    assert code == 2 and "no speech found" in err
    script = tmp_path / "s.txt"
    script.write_text("Hello.\n[ghost] Boo.\n")
    code, _, err = run(capsys, "speak", "--script", script, "--model", tmp_path / "no-model")
    assert code == 2 and "script line 2: unknown voice [ghost]" in err
    script.write_text("Hello.\n")
    code, _, err = run(capsys, "speak", "--script", script, "-o", tmp_path / "out.wav")
    assert code == 2 and "names the folder" in err and "named like a .wav file" in err


def test_a_sound_model_is_refused_for_speech(tiny_model_dir, tmp_path, capsys):
    code, _, err = run(capsys, "speak", "Hello.", "--model", tiny_model_dir, "-o", tmp_path / "x.wav", *FAST)
    assert code == 2 and "not a speech model" in err
