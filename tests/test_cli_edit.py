"""`loa edit`: the editor's operations from the command line, on real files through the CLI's main().

Expectations come from the core operations themselves (core.editing), applied by hand to the same samples; the
outputs are float WAV where bit-exactness is checked, so nothing but the operations can make them differ."""

import json
import os

import numpy as np
import pytest
import soundfile as sf
from loudness_reference import ebur128_lufs

from core.audio.clip import Clip
from core.cli.main import main
from core.editing import Selection, convert, fades, gain, splice


def run(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's usage errors end the process, as they do for `loa`
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def write(path, seconds=2.0, rate=48_000, channels=2, subtype="FLOAT", amplitude=0.4, seed=1):
    """A real file: a tone plus noise (different per channel), so every operation changes something."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    tone = amplitude * np.sin(2 * np.pi * 330 * t)[:, None] * np.linspace(1, 0.6, channels)[None, :]
    samples = (tone + 0.05 * rng.standard_normal((t.size, channels))).astype(np.float32)
    sf.write(str(path), samples, rate, subtype=subtype)
    return path


def read(path):
    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return Clip(samples, rate)


def test_a_chain_equals_the_core_operations_in_order_sample_exact(tmp_path, capsys):
    source = write(tmp_path / "take.wav")
    out = tmp_path / "out.wav"
    code, stdout, err = run(capsys, "edit", source, "-o", out, "--trim", "0.25:1.75", "--fade-in", "0.1:s-curve",
                            "--gain", "-3", "--delete", "0.5:0.6", "--insert-silence", "0:0.2", "--silence", "1:1.1",
                            "--fade-out", "0.3", "--reverse")
    assert (code, stdout.strip(), err) == (0, str(out), "")

    clip = read(source)
    rate = clip.sample_rate
    clip = splice.trim(clip, Selection(int(0.25 * rate), int(1.75 * rate))).clip
    clip = fades.fade_in(clip, Selection(), curve="s-curve", seconds=0.1).clip
    clip = gain.gain(clip, Selection(), db=-3.0).clip
    clip = splice.delete(clip, Selection(int(0.5 * rate), int(0.6 * rate))).clip
    clip = splice.insert_silence(clip, Selection.cursor(0), seconds=0.2).clip
    clip = splice.silence(clip, Selection(rate, int(1.1 * rate))).clip
    clip = fades.fade_out(clip, Selection(), seconds=0.3).clip
    clip = convert.reverse(clip, Selection()).clip
    written = read(out)
    assert written.sample_rate == rate and written.samples.shape == clip.samples.shape
    assert np.array_equal(written.samples, clip.samples)
    assert sf.info(str(out)).subtype == "FLOAT"


def test_operations_run_in_the_order_given_and_ranges_read_the_audio_at_their_step(tmp_path, capsys):
    source = write(tmp_path / "take.wav")
    first, second = tmp_path / "gain-then-peak.wav", tmp_path / "peak-then-gain.wav"
    assert run(capsys, "edit", source, "-o", first, "--gain", "6", "--normalize-peak", "-1")[0] == 0
    assert run(capsys, "edit", source, "-o", second, "--normalize-peak", "-1", "--gain", "6")[0] == 0
    assert 20 * np.log10(np.abs(read(first).samples).max()) == pytest.approx(-1.0, abs=1e-3)
    assert 20 * np.log10(np.abs(read(second).samples).max()) == pytest.approx(5.0, abs=1e-3)  # float keeps it

    # after --trim 1:2, 0 is the trimmed audio's start: --silence 0:0.5 silences the source's 1.0-1.5 s
    out = tmp_path / "trim-then-silence.wav"
    assert run(capsys, "edit", source, "-o", out, "--trim", "1:2", "--silence", "0:0.5", "--crossfade", "0")[0] == 0
    samples, original = read(out).samples, read(source).samples
    assert samples.shape[0] == 48_000
    assert not samples[:24_000].any()
    assert np.array_equal(samples[24_000:], original[72_000:96_000])


@pytest.mark.parametrize("subtype, extension, rate, channels", [("PCM_24", ".flac", 44_100, 2),
                                                                ("PCM_16", ".wav", 22_050, 1),
                                                                ("PCM_24", ".aiff", 48_000, 2)])
def test_the_output_keeps_the_source_format(tmp_path, capsys, subtype, extension, rate, channels):
    source = write(tmp_path / f"take{extension}", seconds=1.0, rate=rate, channels=channels, subtype=subtype)
    code, stdout, err = run(capsys, "edit", source, "--out-dir", tmp_path / "out", "--fade-out", "0.2")
    out = tmp_path / "out" / f"take{extension}"
    assert (code, stdout.strip(), err) == (0, str(out), "")
    info = sf.info(str(out))
    assert (info.subtype, info.samplerate, info.channels, info.frames) == (subtype, rate, channels, rate)


def test_resample_and_mono_change_only_what_they_say(tmp_path, capsys):
    source = write(tmp_path / "take.flac", seconds=1.0, rate=44_100, subtype="PCM_24")
    out = tmp_path / "small"
    code, stdout, _ = run(capsys, "edit", source, "-o", out, "--resample", "22050", "--mono")
    assert (code, stdout.strip()) == (0, str(out) + ".flac")  # no extension given: the source format's
    info = sf.info(str(out) + ".flac")
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("FLAC", "PCM_24", 22_050, 1)
    # --format/--bit-depth and -o's extension override the source's
    assert run(capsys, "edit", source, "-o", tmp_path / "x.wav", "--bit-depth", "16", "--reverse")[0] == 0
    assert (sf.info(str(tmp_path / "x.wav")).format, sf.info(str(tmp_path / "x.wav")).subtype) == ("WAV", "PCM_16")


def test_a_lossy_source_is_written_as_float_wav_with_a_note(corpus_files, tmp_path, capsys):
    bell = next(p for p in corpus_files if p.name.startswith("bell_"))
    code, stdout, err = run(capsys, "edit", bell, "--out-dir", tmp_path, "--reverse")
    out = tmp_path / (bell.stem + ".wav")
    assert (code, stdout.strip()) == (0, str(out))
    assert "lossy" in err and err.startswith("loa: note:") and err.count("\n") == 1
    assert sf.info(str(out)).subtype == "FLOAT"
    assert np.array_equal(read(out).samples, read(bell).samples[::-1])


def _ebur128(path):
    data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    return ebur128_lufs(data, rate)


def test_measure_agrees_with_libebur128_as_text_and_json(corpus_files, capsys):
    files = [p for p in corpus_files if p.name.startswith(("music_", "speech_", "trash_"))]  # 44.1, 48 kHz
    code, stdout, err = run(capsys, "edit", *files, "--measure", "--json")
    assert (code, err) == (0, "")
    rows = [json.loads(line) for line in stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(p) for p in files]
    for path, row in zip(files, rows):
        samples = read(path).samples
        assert row["integrated_lufs"] == pytest.approx(_ebur128(path), abs=0.02)
        assert row["sample_peak_dbfs"] == pytest.approx(20 * np.log10(np.abs(samples).max()), abs=0.01)
        assert row["sample_peak_dbfs"] - 0.01 <= row["true_peak_dbtp"] <= row["sample_peak_dbfs"] + 3.0
    code, stdout, _ = run(capsys, "edit", files[0], "--measure")
    lufs = f"{rows[0]['integrated_lufs']:.1f} LUFS integrated"
    assert code == 0 and stdout == (f"{files[0]}: {lufs}, {rows[0]['true_peak_dbtp']:.1f} dBTP true peak, "
                                    f"{rows[0]['sample_peak_dbfs']:.1f} dBFS sample peak\n")


def test_measure_of_a_clip_too_short_for_loudness_still_gives_its_peaks(corpus_files, capsys):
    bell = next(p for p in corpus_files if p.name.startswith("bell_"))  # 0.14 s
    code, stdout, _ = run(capsys, "edit", bell, "--measure", "--json")
    row = json.loads(stdout)
    assert code == 0 and row["integrated_lufs"] is None and row["sample_peak_dbfs"] < 0
    assert "n/a LUFS (under 0.4 s)" in run(capsys, "edit", bell, "--measure")[1]


def test_normalize_loudness_reaches_the_target_under_the_true_peak_ceiling(corpus_files, tmp_path, capsys):
    speech = next(p for p in corpus_files if p.name.startswith("speech_"))
    out = tmp_path / "speech.wav"
    code, stdout, err = run(capsys, "edit", speech, "-o", out, "--normalize-loudness", "-20", "--true-peak", "-2",
                            "--measure", "--json")
    row = json.loads(stdout)
    assert code == 0 and row["path"] == str(out)
    assert _ebur128(out) == pytest.approx(-20.0, abs=0.05)  # written as 16 bit, like the source
    assert row["true_peak_dbtp"] <= -2.0 + 1e-3
    assert sf.info(str(out)).subtype == sf.info(str(speech)).subtype


def test_above_full_scale_into_integer_samples_warns_once_and_a_later_normalise_does_not(tmp_path, capsys):
    source = write(tmp_path / "take.wav", subtype="PCM_16")
    code, _, err = run(capsys, "edit", source, "-o", tmp_path / "loud.wav", "--gain", "12")
    assert code == 0 and err.count("\n") == 1 and err.startswith("loa: warning:") and "dBFS" in err
    code, _, err = run(capsys, "edit", source, "-o", tmp_path / "ok.wav", "--gain", "12", "--normalize-peak", "-1")
    assert (code, err) == (0, "")


def _one_line(code, err):
    return code == 2 and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv, words", [
    (["--trim", "1:9"], "--trim 1:9: ends at 9 s, after the end of the audio at this step (2.000 s)"),
    (["--delete", "3:"], "starts at 3 s"),
    (["--trim", "1:2", "--silence", "1.5:end"], "--silence 1.5:end: starts at 1.5 s"),
    (["--insert-silence", "5:1"], "after the end"),
    (["--trim", "2:1"], "empty or backwards"),
    (["--trim", "1.5"], "is not a range"),
    (["--fade-in", "0.5:wobbly"], "unknown fade curve 'wobbly'"),
    (["--gain", "100"], "--gain 100: the gain in dB must be a number from -120 to 60"),
    (["--resample", "12"], "the sample rate must be"),
    (["--normalize-loudness", "-16", "--format", "flac", "--bit-depth", "float"], "FLAC cannot hold"),
    (["--true-peak", "-1", "--gain", "1"], "--true-peak is the ceiling of --normalize-loudness"),
    (["--reverse", "-o", "{tmp}/x.xyz"], "cannot write x.xyz"),
    (["--reverse", "-o", "{tmp}/x.flac", "--format", "wav"], "disagree"),
    (["--reverse", "-o", "{source}", "--overwrite"], "refusing to write over the input"),
    (["--reverse", "--out-dir", "{tmp}", "--overwrite"], "refusing to write over the input"),
    (["{tmp}/other.wav", "--reverse", "-o", "{tmp}/out.wav"], "-o names one file but 2 inputs"),
    (["{tmp}/other.wav", "--reverse", "--out-dir", "{source}"], "is a file, not a folder"),
    (["--reverse"], "say where to write"),
    ([], "nothing to do"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, argv, words):
    source = write(tmp_path / "take.wav")
    write(tmp_path / "other.wav")
    before = sorted(os.listdir(tmp_path))
    argv = [a.replace("{tmp}", str(tmp_path)).replace("{source}", str(source)) for a in argv]
    if "-o" not in argv and "--out-dir" not in argv and argv != ["--reverse"] and argv:
        argv += ["-o", str(tmp_path / "out.wav")]
    code, stdout, err = run(capsys, "edit", source, *argv)
    assert _one_line(code, err) and words in err and stdout == ""
    assert sorted(os.listdir(tmp_path)) == before  # no output, no temp file left behind


def test_unreadable_and_missing_inputs_are_reported_and_the_others_written(tmp_path, capsys):
    good = write(tmp_path / "good.wav")
    fake = tmp_path / "notes.wav"
    fake.write_text("not audio")
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "edit", fake, good, tmp_path / "gone.wav", "--out-dir", out, "--gain", "-1")
    assert code == 2 and stdout.strip() == str(out / "good.wav")
    lines = err.splitlines()
    assert lines[0].startswith(f"loa: error: {fake}: Cannot read notes.wav as audio")
    assert lines[1].startswith(f"loa: error: {tmp_path / 'gone.wav'}: Audio file not found")
    assert lines[2] == "loa: 2 inputs of 3 failed; the others were written."
    assert sorted(os.listdir(out)) == ["good.wav"]


def test_an_existing_output_is_kept_unless_overwrite(tmp_path, capsys):
    source = write(tmp_path / "take.wav")
    out = tmp_path / "out.wav"
    out.write_bytes(b"keep me")
    code, _, err = run(capsys, "edit", source, "-o", out, "--reverse")
    assert _one_line(code, err) and "already exists" in err and out.read_bytes() == b"keep me"
    assert run(capsys, "edit", source, "-o", out, "--reverse", "--overwrite")[0] == 0
    assert np.array_equal(read(out).samples, read(source).samples[::-1])


def test_two_inputs_with_the_same_name_never_write_one_file_twice(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = write(tmp_path / "a" / "take.wav"), write(tmp_path / "b" / "take.wav", seed=2)
    code, stdout, err = run(capsys, "edit", first, second, "--out-dir", tmp_path / "out", "--reverse", "--overwrite")
    assert code == 2 and stdout.strip() == str(tmp_path / "out" / "take.wav")
    assert f"{second}: " in err and "already written" in err
    assert np.array_equal(read(tmp_path / "out" / "take.wav").samples, read(first).samples[::-1])


def test_append_silence_and_stereo_with_a_json_record(tmp_path, capsys):
    source = write(tmp_path / "mono.wav", seconds=1.0, channels=1, subtype="PCM_24")
    out = tmp_path / "wide.wav"
    code, stdout, err = run(capsys, "edit", source, "-o", out, "--insert-silence", "end:0.5", "--stereo", "--json")
    record = json.loads(stdout)
    assert (code, err) == (0, "")
    assert (record["path"], record["seconds"], record["channels"]) == (str(out), 1.5, 2)
    assert [op["op"] for op in record["operations"]] == ["insert_silence", "to_stereo"]
    assert record["format"] == "WAV 24-bit, 48 kHz, stereo"
    written, original = read(out).samples, read(source).samples
    assert np.array_equal(written[:, 0], written[:, 1]) and not written[48_000:].any()
    assert np.array_equal(written[:48_000, 0], original[:, 0])
