"""Bar-locked music: exact lengths, endings, names, metadata and the ACID chunk, through the users' paths."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import soundfile as sf

from core.audio.acid import AcidInfo, add_acid_chunk, read_acid_chunk, riff_chunks
from core.audio.bars import bar_frames, trim_to_frames
from core.audio.clip import MODEL_RATE, Clip, save_clip
from core.cli.main import main
from core.errors import InputError
from core.generation.bar_locked import BarLock, generate_bars
from core.generation.requests import GenerationRequest


@pytest.mark.parametrize("bars,bpm,beats", [(4, 97.0, 4), (1, 140.0, 4), (2, 93.5, 3)])
def test_bar_frames_are_n_bars_to_the_sample(bars, bpm, beats):
    for rate in (16_000, 44_100, 48_000):
        assert bar_frames(bars, bpm, rate, beats) == round(bars * beats * 60 / bpm * rate)


def test_trim_pads_short_takes_and_fades_the_cut():
    clip = Clip(np.ones((1000, 2), np.float32), 16_000)
    cut = trim_to_frames(clip, 800)
    assert cut.frames == 800 and cut.samples[-1, 0] == 0.0 and cut.samples[0, 0] == 1.0
    assert trim_to_frames(clip, 1200).frames == 1200


def test_acid_chunk_round_trip_keeps_the_audio(tmp_path):
    path = save_clip(Clip(np.sin(np.arange(4800) / 5).astype(np.float32), 48_000), tmp_path / "a.wav")
    before, _ = sf.read(path)
    add_acid_chunk(path, AcidInfo(bpm=97.0, beats=16, meter_numerator=4))
    add_acid_chunk(path, AcidInfo(bpm=98.0, beats=12, meter_numerator=3))  # replaced, not duplicated
    data = path.read_bytes()
    ids = [c[0] for c in riff_chunks(data)]
    assert ids.count(b"acid") == 1 and struct.unpack("<I", data[4:8])[0] == len(data) - 8
    info = read_acid_chunk(path)
    assert (info.bpm, info.beats, info.meter_numerator, info.meter_denominator) == (98.0, 12, 3, 4)
    after, _ = sf.read(path)
    assert np.array_equal(before, after)


def test_generate_bars_is_exact_with_both_endings(tiny_engine):
    request = GenerationRequest(prompt="drum loop", steps=2, candidates=2, seed=3)
    for ending in ("fade", "close-loop"):
        lock = BarLock(bars=1, bpm=97.0, ending=ending)
        result = generate_bars(tiny_engine, request, lock)
        for candidate in result.candidates:
            assert candidate.clip.frames == round(1 * 4 * 60 / 97.0 * candidate.clip.sample_rate)
            assert candidate.settings["bars"] == 1 and candidate.settings["bpm"] == 97.0
            assert candidate.settings["ending"] == ending


def test_bar_lock_refuses_bad_values():
    with pytest.raises(InputError, match="bars must be"):
        BarLock(bars=0, bpm=120).validated()
    with pytest.raises(InputError, match="at most 60"):
        BarLock(bars=64, bpm=60).validated()
    with pytest.raises(InputError, match="ending"):
        BarLock(bars=1, bpm=120, ending="wrap").validated()


def test_cli_bars_writes_exact_length_tempo_name_and_acid(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["generate", "techno loop", "--model", str(tiny_model_dir), "--device", "cpu", "--steps", "2",
                 "--seed", "5", "--bars", "2", "--bpm", "97", "--beats-per-bar", "3", "--json", "--quiet"])
    assert code == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    path = tmp_path / record["path"]
    assert path.name == "techno-loop_97bpm_2bars_s5.wav"
    assert sf.info(path).frames == round(2 * 3 * 60 / 97 * MODEL_RATE)
    info = read_acid_chunk(path)
    assert (info.bpm, info.beats, info.meter_numerator) == (97.0, 6, 3)
    sidecar = json.loads(path.with_name(path.name + ".json").read_text())
    assert sidecar["settings"]["bpm"] == 97.0 and sidecar["settings"]["bars"] == 2


def test_cli_bars_usage_errors_exit_2(tiny_model_dir, capsys):
    assert main(["generate", "x", "--model", str(tiny_model_dir), "--bars", "2"]) == 2
    assert "--bpm" in capsys.readouterr().err
    assert main(["generate", "x", "--model", str(tiny_model_dir), "--bpm", "120"]) == 2
    assert main(["generate", "x", "--model", str(tiny_model_dir), "--bars", "2", "--bpm", "5"]) == 2
