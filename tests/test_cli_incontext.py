"""`loa continue`, `loa inpaint`, `loa loop` on real recordings."""

import json

import numpy as np
import pytest
import soundfile as sf

from core.audio.clip import load_clip
from core.audio.provenance import read_sidecar
from core.cli.main import main

FAST = ["--steps", "1", "--seed", "5"]


@pytest.fixture
def take(corpus_files, tmp_path):
    src = next(p for p in corpus_files if p.name.startswith("service_login"))  # 22.05 kHz stereo Vorbis
    return src


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_continue_writes_the_clip_plus_seconds_at_the_input_rate(tiny_model_dir, take, tmp_path, capsys):
    out = tmp_path / "more.wav"
    code, stdout, err = run(capsys, "continue", take, "--seconds", "0.5", "--model", tiny_model_dir, "-o", out,
                            "--json", *FAST)
    assert code == 0, err
    row = json.loads(stdout)
    original, result = load_clip(take), load_clip(out)
    assert (result.sample_rate, result.channels) == (original.sample_rate, original.channels)
    assert result.frames == original.frames + round(0.5 * original.sample_rate)
    assert row["settings"]["operation"] == "continue" and row["seed"] == 5
    assert read_sidecar(out)["settings"]["source_file"] == take.name


def test_inpaint_keeps_the_outside(tiny_model_dir, take, tmp_path, capsys):
    src = tmp_path / "take.wav"
    clip = load_clip(take)
    sf.write(str(src), clip.samples, clip.sample_rate, subtype="FLOAT")
    out = tmp_path / "fixed.wav"
    code, _, err = run(capsys, "inpaint", src, "--start", "0.5", "--end", "0.9", "--model", tiny_model_dir,
                       "-o", out, *FAST)
    assert code == 0, err
    fixed = load_clip(out).samples  # written as float WAV: no requantisation
    f0, f1 = round(0.5 * clip.sample_rate), round(0.9 * clip.sample_rate)
    assert fixed.shape == clip.samples.shape
    assert np.abs(fixed[:f0] - clip.samples[:f0]).max() < 1e-4
    assert np.abs(fixed[f1:] - clip.samples[f1:]).max() < 1e-4


def test_loop_extend_and_close(tiny_model_dir, take, tmp_path, capsys):
    clip = load_clip(take)
    code, stdout, err = run(capsys, "loop", take, "--extend-bars", "1", "--bpm", "120", "--model",
                            tiny_model_dir, "-o", tmp_path / "longer.flac", *FAST)
    assert code == 0, err
    assert load_clip(tmp_path / "longer.flac").frames == clip.frames + 2 * clip.sample_rate
    code, stdout, err = run(capsys, "loop", take, "--close", "--close-seconds", "0.5", "--model", tiny_model_dir,
                            "-o", tmp_path / "closed.wav", *FAST)
    assert code == 0, err
    assert load_clip(tmp_path / "closed.wav").frames == clip.frames


@pytest.mark.parametrize("argv, words", [
    (["inpaint", "{take}", "--start", "2", "--end", "1"], "start < end"),
    (["continue", "{missing}", "--seconds", "1"], "not found"),
    (["continue", "{take}", "--seconds", "0"], "seconds must be"),
    (["loop", "{take}", "--extend-bars", "1", "--bpm", "0"], "tempo must be a number from 20 to 400 BPM (got 0)"),
])
def test_bad_input_exits_2_with_one_line(tiny_model_dir, take, tmp_path, capsys, argv, words):
    argv = [a.format(take=take, missing=tmp_path / "nope.wav") for a in argv]
    code, _, err = run(capsys, *argv, "--model", tiny_model_dir, *FAST)
    assert code == 2 and words in err and err.count("\n") == 1


def test_loop_needs_extend_or_close(take, capsys):
    with pytest.raises(SystemExit) as info:
        main(["loop", str(take)])
    assert info.value.code == 2


def test_non_finite_samples_are_repaired_and_reported(tiny_model_dir, tmp_path, capsys):
    rate = 16_000
    audio = (0.3 * np.sin(2 * np.pi * 220 * np.arange(rate) / rate)).astype(np.float32)
    audio[100:110] = np.nan
    src = tmp_path / "glitchy.wav"
    sf.write(str(src), audio, rate, subtype="FLOAT")
    code, _, err = run(capsys, "continue", src, "--seconds", "0.2", "--model", tiny_model_dir,
                       "-o", tmp_path / "out.wav", *FAST)
    assert code == 0 and "10 NaN or infinite samples in glitchy.wav were replaced by silence" in err
    out = load_clip(tmp_path / "out.wav")
    assert out.frames == rate + round(0.2 * rate) and np.isfinite(out.samples).all()
    sf.write(str(src), np.full(rate, np.nan, np.float32), rate, subtype="FLOAT")
    code, _, err = run(capsys, "continue", src, "--seconds", "0.2", "--model", tiny_model_dir, *FAST)
    assert code == 2 and "no valid samples" in err
