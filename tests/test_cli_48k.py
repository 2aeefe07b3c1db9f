"""The 48 kHz model through the command line: generate (one take and ranked candidates), bar-locked loops,
continue, inpaint, loop and transform of a 44.1 kHz source, and the files they write (rate, bit depth, length)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from core.cli.main import main

FAST = ["--steps", "2", "--seed", "5", "--device", "cpu", "--quiet"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def source44(corpus_files, tmp_path_factory):
    """3 s of a real 44.1 kHz stereo recording as 16-bit WAV: an in-context edit must keep its rate and bit depth."""
    data, rate = sf.read(str(next(p for p in corpus_files if p.name.startswith("music_intro_44k"))),
                         dtype="int16", always_2d=True)
    path = tmp_path_factory.mktemp("src") / "groove44.wav"
    sf.write(str(path), data[: 3 * rate], rate, subtype="PCM_16")
    return path


def test_generate_writes_48k_24_bit_candidates(tiny_48k_model, tmp_path, capsys):
    out = tmp_path / "rain.wav"
    code, stdout, err = run(capsys, "generate", "rain on a tin roof", "--model", tiny_48k_model, "--seconds", "1.5",
                            "--candidates", "2", "-o", out, "--json", *FAST)
    assert code == 0, err
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert len(rows) == 2 and {r["seed"] for r in rows} == {5, 6}
    for row in rows:
        info = sf.info(row["path"])
        assert (info.samplerate, info.frames, info.subtype) == (48_000, 72_000, "PCM_24")
        assert row["sample_rate"] == 48_000


def test_generate_bars_is_sample_exact_at_48k(tiny_48k_model, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run(capsys, "generate", "techno loop", "--model", tiny_48k_model, "--bars", "2", "--bpm",
                            "97", "--loop-end", "close-loop", "--json", *FAST)
    assert code == 0, err
    path = tmp_path / json.loads(stdout.splitlines()[0])["path"]
    info = sf.info(str(path))
    assert (info.samplerate, info.frames) == (48_000, round(2 * 4 * 60 / 97 * 48_000))


def test_continue_and_inpaint_keep_a_44k_16_bit_source_exactly(tiny_48k_model, source44, tmp_path, capsys):
    original, _ = sf.read(str(source44), dtype="int16", always_2d=True)
    longer = tmp_path / "longer.wav"
    code, _, err = run(capsys, "continue", source44, "--seconds", "0.6", "--model", tiny_48k_model, "-o", longer,
                       *FAST)
    assert code == 0, err
    info = sf.info(str(longer))
    assert (info.samplerate, info.subtype, info.channels) == (44_100, "PCM_16", 2)
    data, _ = sf.read(str(longer), dtype="int16", always_2d=True)
    keep = len(original) - round(0.02 * 44_100)
    assert len(data) == len(original) + round(0.6 * 44_100)
    assert np.array_equal(data[:keep], original[:keep])

    fixed = tmp_path / "fixed.wav"
    code, _, err = run(capsys, "inpaint", source44, "--start", "1.0", "--end", "1.5", "--model", tiny_48k_model,
                       "-o", fixed, *FAST)
    assert code == 0, err
    data, rate = sf.read(str(fixed), dtype="int16", always_2d=True)
    f0, f1 = round(1.0 * rate), round(1.5 * rate)
    assert rate == 44_100 and data.shape == original.shape
    assert np.array_equal(data[:f0], original[:f0]) and np.array_equal(data[f1:], original[f1:])
    assert not np.array_equal(data[f0:f1], original[f0:f1])


def test_loop_and_transform_with_the_48k_model(tiny_48k_model, source44, tmp_path, capsys):
    original, _ = sf.read(str(source44), dtype="int16", always_2d=True)
    extended = tmp_path / "extended.wav"
    code, _, err = run(capsys, "loop", source44, "--extend-bars", "1", "--bpm", "120", "--model", tiny_48k_model,
                       "-o", extended, *FAST)
    assert code == 0, err
    assert sf.info(str(extended)).frames == len(original) + 2 * 44_100  # one 4/4 bar at 120 BPM

    changed = tmp_path / "changed.wav"
    code, _, err = run(capsys, "transform", source44, "--prompt", "a metal door", "--strength", "0.5", "--start",
                       "0.5", "--end", "2.0", "--model", tiny_48k_model, "-o", changed, *FAST)
    assert code == 0, err
    data, rate = sf.read(str(changed), dtype="int16", always_2d=True)
    f0, f1 = round(0.5 * rate), round(2.0 * rate)
    assert (rate, data.shape) == (44_100, original.shape)
    assert np.array_equal(data[:f0], original[:f0]) and np.array_equal(data[f1:], original[f1:])


def test_batch_rows_render_48k_takes_and_bar_locked_loops(tiny_48k_model, tmp_path, capsys):
    rows = [{"mode": "music", "prompt": "a piano melody", "bars": 1, "bpm": 120, "steps": 1, "seed": 7,
             "model": str(tiny_48k_model), "output": "loops/{slug}_{seed}.flac"},
            {"prompt": "door slam", "seconds": 0.5, "steps": 1, "seed": 3, "model": str(tiny_48k_model),
             "output": "sfx/{slug}_{seed}.wav"}]
    (tmp_path / "jobs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    code, _, err = run(capsys, "batch", tmp_path / "jobs.jsonl", "--out", out, "--device", "cpu")
    assert code == 0, err
    loop = sf.info(str(out / "loops/a-piano-melody_7.flac"))
    assert (loop.samplerate, loop.frames, loop.subtype) == (48_000, 96_000, "PCM_24")  # one 4/4 bar at 120 BPM
    sfx = sf.info(str(out / "sfx/door-slam_3.wav"))
    assert (sfx.samplerate, sfx.frames, sfx.subtype) == (48_000, 24_000, "PCM_24")
