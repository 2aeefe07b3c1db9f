"""Bar-locked music: exact lengths, endings, names, metadata and the ACID chunk, through the users' paths."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import soundfile as sf

from core.audio.acid import AcidInfo, add_acid_chunk, read_acid_chunk, riff_chunks
from core.audio.clip import MODEL_RATE, Clip, save_clip
from core.cli.main import main
from core.errors import InputError
from core.generation.bar_locked import BarLock, generate_bars
from core.generation.requests import GenerationRequest
from core.tempo.bars import bar_frames, trim_to_frames


def libsndfile_loop_info(path):
    """(meter numerator, denominator, beats, bpm) as libsndfile reads the WAV's ACID chunk
    (sf_command SFC_GET_LOOP_INFO), through soundfile's own binding of the library; None without one."""
    SFC_GET_LOOP_INFO = 0x10E0
    with sf.SoundFile(str(path)) as f:
        # SF_LOOP_INFO: short time_sig_num, short time_sig_den, int loop_mode, int num_beats, float bpm,
        # int root_key, int future[6]
        buffer = sf._ffi.new("char[]", 44)  # sizeof(SF_LOOP_INFO): libsndfile checks it
        if not sf._snd.sf_command(f._file, SFC_GET_LOOP_INFO, buffer, 44):
            return None
        numerator, denominator, _, beats, bpm = struct.unpack("<hhiif", bytes(sf._ffi.buffer(buffer, 16)))
    return numerator, denominator, beats, bpm


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
    assert path.name == "techno-loop_97bpm_3-4_2bars_s5.wav"
    assert sf.info(path).frames == round(2 * 3 * 60 / 97 * MODEL_RATE)
    info = read_acid_chunk(path)
    assert (info.bpm, info.beats, info.meter_numerator) == (97.0, 6, 3)
    assert libsndfile_loop_info(path) == (3, 4, 6, 97.0)
    sidecar = json.loads(path.with_name(path.name + ".json").read_text())
    assert sidecar["settings"]["bpm"] == 97.0 and sidecar["settings"]["bars"] == 2


def test_cli_bars_usage_errors_exit_2(tiny_model_dir, capsys):
    assert main(["generate", "x", "--model", str(tiny_model_dir), "--bars", "2"]) == 2
    assert "--bpm" in capsys.readouterr().err
    assert main(["generate", "x", "--model", str(tiny_model_dir), "--bpm", "120"]) == 2
    assert main(["generate", "x", "--model", str(tiny_model_dir), "--bars", "2", "--bpm", "5"]) == 2


@pytest.mark.parametrize("beats,unit,seconds", [(7, 8, 2 * 7 * 0.25), (6, 8, 2 * 6 * 0.25), (4, 4, 4.0),
                                                (3, 2, 2 * 3 * 1.0), (5, 16, 2 * 5 * 0.125)])
def test_the_beat_unit_sets_the_length_at_quarter_note_tempo(beats, unit, seconds):
    """Two bars at 120 BPM, the tempo in quarter notes as DAWs count it: an eighth lasts 0.25 s."""
    lock = BarLock(bars=2, bpm=120.0, beats_per_bar=beats, beat_unit=unit).validated()
    assert lock.seconds == pytest.approx(seconds)
    assert lock.frames(48_000) == round(seconds * 48_000)
    assert bar_frames(2, 120.0, 44_100, beats, unit) == round(seconds * 44_100)


def test_cli_seven_eight_writes_its_meter_in_the_length_the_acid_chunk_and_the_name(tiny_model_dir, tmp_path,
                                                                                   capsys, monkeypatch):
    """Issue 19: the ACID chunk said x/4 whatever the meter (--beats-per-bar 7 became 7/4)."""
    monkeypatch.chdir(tmp_path)
    code = main(["generate", "odd loop", "--model", str(tiny_model_dir), "--device", "cpu", "--steps", "2",
                 "--seed", "5", "--bars", "2", "--bpm", "140", "--beats-per-bar", "7", "--beat-unit", "8",
                 "--json", "--quiet"])
    assert code == 0
    path = tmp_path / json.loads(capsys.readouterr().out.splitlines()[0])["path"]
    assert path.name == "odd-loop_140bpm_7-8_2bars_s5.wav"
    assert sf.info(path).frames == round(2 * 7 * 30 / 140 * MODEL_RATE)  # an eighth is half of 60 / 140 s
    assert libsndfile_loop_info(path) == (7, 8, 14, 140.0)
    sidecar = json.loads(path.with_name(path.name + ".json").read_text())
    assert sidecar["settings"]["beat_unit"] == 8 and sidecar["settings"]["beats_per_bar"] == 7


def test_a_beat_unit_that_is_not_a_note_value_exits_2(tiny_model_dir, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["generate", "x", "--model", str(tiny_model_dir), "--bars", "2", "--bpm", "120", "--beat-unit", "3"])
    assert exc.value.code == 2
    with pytest.raises(InputError, match="beat unit"):
        BarLock(bars=1, bpm=120, beat_unit=6).validated()


def test_a_batch_row_takes_a_beat_unit(tiny_model_dir, tmp_path):
    from core.batch.jobs import read_jobs

    jobs = tmp_path / "loops.csv"
    jobs.write_text("prompt,bars,bpm,beats_per_bar,beat_unit,seed\nodd loop,2,140,7,8,1\nplain,2,120,4,,2\n"
                    "bad,2,120,7,6,3\n")
    found = read_jobs(jobs, default_model=str(tiny_model_dir))
    odd, plain = found.rows
    assert (odd.beats_per_bar, odd.beat_unit, odd.seconds) == (7, 8, 3.0)
    assert odd.settings()["beat_unit"] == 8 and "beat_unit" not in plain.settings()  # x/4 rows keep their keys
    assert (plain.beat_unit, plain.seconds) == (4, 4.0)
    assert [(e.line, e.field) for e in found.errors] == [(4, "beat_unit")]
