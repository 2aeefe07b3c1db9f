"""Script mode's resume and inputs (issue 18): a line file of an earlier run is taken only when it reads back
whole (length and sha256 as its sidecar records) - cut-short, altered and deleted line audio is rendered again
without --overwrite - and the reference recording is never written over, even when it lies in the output folder
under a line's name and --overwrite is given."""

import json

from core.audio.provenance import file_sha256
from core.cli.main import main

SCRIPT = "Hello there.\nSee you soon.\nBye now.\nOne more.\n"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_resume_renders_damaged_and_missing_lines_again(tiny_speech_model_dir, tmp_path, capsys):
    script = tmp_path / "ep.txt"
    script.write_text(SCRIPT)
    out = tmp_path / "ep"
    base = ["speak", "--script", script, "-o", out, "--steps", "2", "--guidance", "2", "--json", "--seed", "4",
            "--model", tiny_speech_model_dir]
    code, stdout, err = run(capsys, *base)
    assert code == 0, err
    names = [line["path"] for line in json.loads(stdout)["lines"]]
    cut, gone, altered, kept = (out / name.split("/")[-1] for name in names)
    for path in (cut, gone, altered, kept):
        assert json.loads(path.with_name(path.name + ".json").read_text())["sha256"] == file_sha256(path)
    cut.write_bytes(cut.read_bytes()[: len(cut.read_bytes()) // 2])  # a copy cut short
    gone.unlink()  # its sidecar stays
    data = bytearray(altered.read_bytes())
    data[-2:] = bytes([data[-2] ^ 0x55, data[-1] ^ 0x55])  # same length, other samples
    altered.write_bytes(bytes(data))
    kept_stat = kept.stat()

    code, stdout, err = run(capsys, *base)  # no --overwrite: these are the script's own files
    assert code == 0, err
    assert [line["rendered"] for line in json.loads(stdout)["lines"]] == [True, True, True, False]
    for path in (cut, gone, altered, kept):
        assert json.loads(path.with_name(path.name + ".json").read_text())["sha256"] == file_sha256(path)
    assert (kept.stat().st_ino, kept.stat().st_mtime_ns) == (kept_stat.st_ino, kept_stat.st_mtime_ns)


def test_the_reference_in_the_output_folder_is_never_written_over(tmp_path, capsys, corpus_files):
    script = tmp_path / "ep.txt"
    script.write_text(SCRIPT)
    out = tmp_path / "ep"
    out.mkdir()
    reference = out / "01-hello-there.wav"  # where line 1's take would go
    reference.write_bytes(next(p for p in corpus_files if p.name.startswith("speech_")).read_bytes())
    before = reference.read_bytes()
    for extra in ([], ["--overwrite"]):
        code, _, err = run(capsys, "speak", "--script", script, "-o", out, "--reference", reference,
                           "--reference-text", "hello", *extra, "--model", tmp_path / "no-model")
        assert code == 2 and err.count("\n") == 1, err
        assert "refusing to write over the input" in err
        assert reference.read_bytes() == before


def test_the_windows_script_export_never_writes_over_the_reference(tiny_speech_engine, tmp_path, corpus_files):
    """write_script (the window's Export of a rendered script) with the reference lying in the export folder
    under a line's name: refused even with overwrite, the recording unchanged, nothing written."""
    from core.output_checks import OutputError
    from core.speech import ReferenceVoice, SpeechRequest, parse_script, render_script, write_script
    from core.speech.script import script_file_names

    out = tmp_path / "episode"
    out.mkdir()
    recording = out / "01-hello-there.wav"  # the name the script's first line gets
    recording.write_bytes(next(p for p in corpus_files if p.name.startswith("speech_")).read_bytes())
    before = recording.read_bytes()
    reference = ReferenceVoice.from_file(recording, "hello")
    assert reference.path == recording
    result = render_script(tiny_speech_engine, parse_script("Hello there.\n", "a voice"),
                           SpeechRequest("", seed=3, steps=2, guidance=2.0))
    try:
        write_script(result, out, name="episode", overwrite=True, inputs=[reference.path])
    except OutputError as exc:
        assert "refusing to write over the input" in str(exc)
    else:
        raise AssertionError("the reference was written over")
    assert recording.read_bytes() == before and sorted(p.name for p in out.iterdir()) == [recording.name]
    assert recording.name in script_file_names(result, "episode")
