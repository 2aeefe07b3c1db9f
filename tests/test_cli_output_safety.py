"""Output safety of every writing command: no user file replaced silently, paths checked before any model work,
and the in-context output keeps the input's samples bit for bit (issue 8)."""

import json
import os
import re

import numpy as np
import pytest
import soundfile as sf
from small_disks import mounted_tmpfs

from core.audio.provenance import read_sidecar
from core.audio.seams import crossfade_samples
from core.cli.main import main

FAST = ["--seconds", "1", "--steps", "1", "--seed", "3"]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err, expected_code=2):
    return code == expected_code and err.count("\n") == 1 and "Traceback" not in err


@pytest.fixture
def recording(tmp_path):
    path = tmp_path / "take.wav"
    t = np.arange(24_000) / 24_000
    sf.write(str(path), (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 24_000, subtype="PCM_24")
    return path


@pytest.mark.parametrize("command", [["continue", "--seconds", "0.5"], ["inpaint", "--start", "0.2", "--end", "0.4"],
                                     ["loop", "--extend-bars", "1", "--bpm", "240"], ["loop", "--close"],
                                     ["transform", "--strength", "0.5"]])
@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_the_input_recording_is_never_replaced(tmp_path, capsys, recording, command, overwrite):
    before = recording.read_bytes()
    # Through another spelling of the same path, too; the missing model proves the check comes first.
    same = tmp_path / "sub" / ".." / recording.name
    code, _, err = run(capsys, command[0], recording, *command[1:], "-o", same, *overwrite,
                       "--model", tmp_path / "no-model")
    assert one_line_error(code, err), err
    assert "refusing to write over the input" in err
    assert recording.read_bytes() == before


def test_the_speech_reference_is_never_replaced(tmp_path, capsys, corpus_files):
    recording = tmp_path / "voice.wav"
    recording.write_bytes(next(p for p in corpus_files if p.name.startswith("speech_")).read_bytes())
    before = recording.read_bytes()
    os.link(recording, tmp_path / "hardlink.wav")
    for target in (recording, tmp_path / "hardlink.wav"):
        code, _, err = run(capsys, "speak", "Hello there.", "--reference", recording, "--reference-text", "hello",
                           "-o", target, "--overwrite", "--model", tmp_path / "no-model")
        assert one_line_error(code, err) and "refusing to write over the input" in err, err
    assert recording.read_bytes() == before


def test_existing_files_and_sidecars_are_refused_up_front_unless_overwrite(tiny_model_dir, tmp_path, capsys):
    mine = tmp_path / "existing.wav"
    mine.write_bytes(b"my own recording")
    (tmp_path / "existing.wav.json").write_text("my notes")
    code, _, err = run(capsys, "generate", "rain", "-o", mine, "--model", tmp_path / "no-model", *FAST)
    assert one_line_error(code, err) and "already exists" in err and "--overwrite" in err
    assert mine.read_bytes() == b"my own recording"
    # Only a sidecar of one of the candidate names is in the way: still refused before the model loads.
    (tmp_path / "set-3.wav.json").write_text("notes")
    code, _, err = run(capsys, "generate", "rain", "-o", tmp_path / "set.wav", "--candidates", "3",
                       "--model", tmp_path / "no-model", *FAST)
    assert one_line_error(code, err) and "set-3.wav.json already exists" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.wav", "existing.wav.json", "set-3.wav.json"]
    code, out, err = run(capsys, "generate", "rain", "-o", mine, "--overwrite", "--model", tiny_model_dir, *FAST)
    assert code == 0, err
    assert sf.info(str(mine)).frames == 16_000 and read_sidecar(mine)["seed"] == 3


def test_default_names_are_made_free_instead_of_replacing(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rain_s3.wav").write_bytes(b"an earlier take")
    code, out, err = run(capsys, "generate", "rain", "--model", tiny_model_dir, *FAST)
    assert code == 0, err
    assert out.strip() == "rain_s3-2.wav" and (tmp_path / "rain_s3.wav").read_bytes() == b"an earlier take"


@pytest.fixture
def read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:  # root ignores permission bits: a read-only mount is the real thing
        with mounted_tmpfs(folder, read_only=True):
            yield folder
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


def test_bad_output_paths_exit_2_before_the_model_loads(tmp_path, capsys, read_only_folder):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "side.wav.json").mkdir()
    cases = {
        tmp_path: "is a folder",
        tmp_path / "noext": "unknown extension",
        tmp_path / "x.mp4": "unknown extension",
        read_only_folder / "x.wav": "read-only file system|no permission",
        tmp_path / "afile" / "x.wav": "is a file, not a folder",
        tmp_path / ("n" * 300 + ".wav"): "file name too long",
        tmp_path / "side.wav": "side.wav.json is a folder",
        "/proc/loa.wav": "cannot create files",
    }
    os.mkfifo(tmp_path / "pipe.wav")
    code, _, err = run(capsys, "generate", "rain", "-o", tmp_path / "pipe.wav", "--overwrite",
                       "--model", tmp_path / "no-model", *FAST)
    assert one_line_error(code, err) and "not a regular file" in err
    for output, words in cases.items():
        code, _, err = run(capsys, "generate", "rain", "-o", output, "--model", tmp_path / "no-model", *FAST)
        assert one_line_error(code, err), (output, err)
        assert re.search(words, err), (output, err)


# ---- kept bit for bit -------------------------------------------------------------------------------------

def _continue(capsys, tiny_model_dir, source, *extra):
    code, out, err = run(capsys, "continue", source, "--seconds", "0.25", "--model", tiny_model_dir,
                         "--steps", "1", "--seed", "1", "--json", *extra)
    assert code == 0, err
    return json.loads(out)["path"], err


def test_24_bit_input_stays_24_bit_and_kept_samples_read_back_equal(tiny_model_dir, tmp_path, capsys,
                                                                     monkeypatch, recording):
    monkeypatch.chdir(tmp_path)
    out, _ = _continue(capsys, tiny_model_dir, recording)
    assert out == "take-continued.wav" and sf.info(out).subtype == "PCM_24"
    original, _ = sf.read(str(recording), dtype="int32")
    written, _ = sf.read(out, dtype="int32")
    kept = len(original) - crossfade_samples(24_000)  # the seam's crossfade is the only changed part
    assert np.array_equal(written[:kept], original[:kept])


def test_float_input_stays_float_and_unclipped(tiny_model_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "hot.flac.wav"
    samples = (1.2 * np.sin(np.linspace(0, 60, 16_000))).astype(np.float32)[:, None].repeat(2, axis=1)
    sf.write(str(source), samples, 16_000, subtype="FLOAT")
    code, _, err = run(capsys, "inpaint", source, "--start", "0.3", "--end", "0.5", "--model", tiny_model_dir,
                       "--steps", "1", "-o", tmp_path / "fixed.wav")
    assert code == 0, err
    written, _ = sf.read(str(tmp_path / "fixed.wav"), dtype="float32")
    assert sf.info(str(tmp_path / "fixed.wav")).subtype == "FLOAT"
    assert np.array_equal(written[:4800], samples[:4800]) and np.array_equal(written[8000:], samples[8000:])
    assert written[:4800].max() > 1.19


def test_a_lossy_input_defaults_to_lossless_float_wav(tiny_model_dir, tmp_path, capsys, monkeypatch, corpus_files):
    monkeypatch.chdir(tmp_path)
    source = next(p for p in corpus_files if p.suffix == ".oga")
    out, err = _continue(capsys, tiny_model_dir, source)
    assert out == f"{source.stem}-continued.wav" and "is lossy (Vorbis): writing WAV with 32-bit float" in err
    assert sf.info(out).subtype == "FLOAT"
    decoded, _ = sf.read(str(source), dtype="float32")
    written, _ = sf.read(out, dtype="float32")
    kept = len(decoded) - crossfade_samples(sf.info(str(source)).samplerate)
    assert np.array_equal(written[:kept], decoded[:kept])
    # --format / --subtype override the kept format.
    out, _ = _continue(capsys, tiny_model_dir, source, "--format", "flac", "--subtype", "pcm16")
    assert out.endswith(".flac") and sf.info(out).subtype == "PCM_16"
    code, _, err = run(capsys, "continue", source, "--seconds", "1", "--format", "flac", "--subtype", "float32",
                       "--model", tmp_path / "no-model")
    assert one_line_error(code, err) and "FLAC cannot hold float32" in err


def test_a_full_disk_leaves_the_old_files_and_no_partial_set(tiny_model_dir, tmp_path, capsys):
    with mounted_tmpfs(tmp_path / "disk") as disk:
        (disk / "out-1.wav").write_bytes(b"old take")
        (disk / "out-1.wav.json").write_text("old notes")
        # Three 3 s takes as 24-bit WAV need ~430 KB: the disk fills partway through the set.
        code, out, err = run(capsys, "generate", "rain", "-o", disk / "out.wav", "--candidates", "3", "--overwrite",
                             "--model", tiny_model_dir, "--seconds", "3", "--steps", "1")
        assert one_line_error(code, err) and out == "", err
        assert err.startswith("loa: error: no space left on device writing ") and "nothing was changed" in err
        assert sorted(p.name for p in disk.iterdir()) == ["out-1.wav", "out-1.wav.json"]
        assert (disk / "out-1.wav").read_bytes() == b"old take" and (disk / "out-1.wav.json").read_text() == "old notes"


def test_an_explicit_output_named_like_the_default_is_not_mistaken_for_an_input(tiny_model_dir, tmp_path, capsys,
                                                                                 monkeypatch, recording):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "continue", recording, "--seconds", "0.25", "--steps", "1", "--model",
                         tiny_model_dir, "-o", "take-continued.wav")
    assert code == 0 and out.strip() == "take-continued.wav", err
    # A symlink to the input is the input.
    (tmp_path / "link.wav").symlink_to(recording)
    code, _, err = run(capsys, "inpaint", recording, "--start", "0.1", "--end", "0.2", "--overwrite",
                       "-o", tmp_path / "link.wav", "--model", tmp_path / "no-model")
    assert one_line_error(code, err) and "refusing to write over the input" in err
