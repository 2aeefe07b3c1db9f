"""`loa batch --out DIR` never loses a file that is not its own (issue 18): a user's file with a rendered name
is not replaced without --overwrite, only LOA's own temps of dead writers are swept, a manifest.jsonl that is
not ours is refused and left as it is, duplicate names are refused up front, a second run into the same folder
is refused while the first runs, and the folder's odd states (a file as --out, a folder as manifest, a torn
manifest tail, a full disk) end in one line."""

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.batch.manifest import compact, file_sha256
from core.cli.main import main
from core.stale_temps import HOST

REPO = Path(__file__).resolve().parents[1]
JOB = "prompt,seconds,count,seed,steps,output\n"


def write_job(tmp_path, rows, name="jobs.csv"):
    (tmp_path / name).write_text(JOB + "".join(r + "\n" for r in rows))
    return tmp_path / name


def batch(tmp_path, model, capsys, *extra, jobs="jobs.csv", out="out"):
    code = main(["batch", str(tmp_path / jobs), "--out", str(tmp_path / out), "--model", str(model),
                 "--device", "cpu", "--quiet", *map(str, extra)])
    return code, capsys.readouterr().err


def one_line(err):
    return err.count("\n") == 1 and "Traceback" not in err


def records(out):
    header, *rest = (out / "manifest.jsonl").read_text().splitlines()
    assert json.loads(header)["loa_batch_manifest"] == 1
    return [r for r in map(json.loads, (line for line in rest if line.endswith("}"))) if "sha256" in r]


def test_a_file_not_in_the_manifest_is_never_replaced(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "kick.wav").write_bytes(b"my own kick")
    (out / "snare.wav.json").write_text("my notes")
    write_job(tmp_path, ["kick drum,0.5,1,3,1,kick", "snare drum,0.5,1,3,1,snare", "hat,0.5,1,3,1,hat"])
    code, err = batch(tmp_path, tiny_model_dir, capsys)
    assert code == 2, err
    assert "line 2: kick.wav exists and is not ours; rename the output or pass --overwrite" in err
    assert "line 3: snare.wav.json exists and is not ours" in err
    assert (out / "kick.wav").read_bytes() == b"my own kick" and (out / "snare.wav.json").read_text() == "my notes"
    assert not (out / "hat.wav").exists()  # refused up front: nothing rendered

    code, err = batch(tmp_path, tiny_model_dir, capsys, "--skip-bad")  # the rest, around the user's files
    assert code == 0, err
    assert (out / "kick.wav").read_bytes() == b"my own kick" and (out / "hat.wav").is_file()
    assert [r["path"] for r in records(out)] == ["hat.wav"]

    code, err = batch(tmp_path, tiny_model_dir, capsys, "--overwrite")  # now the user says so
    assert code == 0, err
    assert (out / "kick.wav").read_bytes() != b"my own kick"
    assert sorted(r["path"] for r in records(out)) == ["hat.wav", "kick.wav", "snare.wav"]

    write_job(tmp_path, ["kick drum,0.5,1,3,2,kick", "snare drum,0.5,1,3,1,snare", "hat,0.5,1,3,1,hat"])
    code, err = batch(tmp_path, tiny_model_dir, capsys)  # our own file, row changed: re-rendered, no flag
    assert code == 0 and "1 rendered, 2 already done" in err, err


def test_only_our_own_temps_of_dead_writers_are_swept(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    users = [out / ".notes.tmp.txt", out / "sub" / ".draft.tmp.wav", out / "sub" / ".x.tmp"]
    for path in users:
        path.write_text("mine")
    live = subprocess.Popen(["sleep", "60"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        live_temp = out / "sub" / f".take.wav.loa-{HOST}-{live.pid}-0123abcd.tmp.wav"  # a concurrent `loa edit`
        dead_temp = out / "sub" / f".take.wav.loa-{HOST}-{dead.pid}-0123abcd.tmp.wav"  # a killed writer
        elsewhere = tmp_path / "other" / f".take.wav.loa-{HOST}-{dead.pid}-0123abcd.tmp.wav"
        elsewhere.parent.mkdir()
        for path in (live_temp, dead_temp, elsewhere):
            path.write_bytes(b"temp")
        write_job(tmp_path, ["rain,0.5,1,3,1,sub/{slug}"])
        code, err = batch(tmp_path, tiny_model_dir, capsys)
        assert code == 0, err
        assert all(path.read_text() == "mine" for path in users)
        assert live_temp.exists() and not dead_temp.exists() and elsewhere.exists()
    finally:
        live.kill()
        live.wait()


def test_a_foreign_manifest_is_refused_and_left_as_it_is(tiny_model_dir, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    dataset = "".join(json.dumps({"path": f"clip{i}.wav", "text": f"line {i}"}) + "\n" for i in range(50))
    (out / "manifest.jsonl").write_text(dataset)
    write_job(tmp_path, ["rain,0.5,1,3,1,{slug}"])
    for extra in ([], ["--dry-run"]):
        code, err = batch(tmp_path, tiny_model_dir, capsys, *extra)
        assert code == 2 and one_line(err), err
        assert "manifest.jsonl is not a LOA batch manifest" in err
        assert (out / "manifest.jsonl").read_text() == dataset
        assert not (out / "rain.wav").exists()


def test_odd_folders_end_in_one_line(tiny_model_dir, tmp_path, capsys):
    write_job(tmp_path, ["rain,0.5,1,3,1,{slug}"])
    (tmp_path / "afile").write_text("keep")
    for extra in ([], ["--dry-run"]):
        code, err = batch(tmp_path, tiny_model_dir, capsys, *extra, out="afile")
        assert code == 2 and one_line(err) and "is a file, not a folder" in err, err
        assert (tmp_path / "afile").read_text() == "keep"
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "takes").write_text("a file where the pattern wants a folder")
    write_job(tmp_path, ["rain,0.5,1,3,1,takes/{slug}"])
    code, err = batch(tmp_path, tiny_model_dir, capsys)
    assert code == 2 and "line 2: takes is a file, so takes/rain.wav cannot be made inside it" in err, err
    assert "Traceback" not in err and (tmp_path / "out" / "takes").is_file()
    (tmp_path / "out" / "manifest.jsonl").mkdir()
    for extra in ([], ["--dry-run"]):
        code, err = batch(tmp_path, tiny_model_dir, capsys, *extra)
        assert code == 2 and one_line(err) and "manifest.jsonl is a folder" in err, err


def test_a_torn_utf8_tail_is_skipped_and_its_file_rendered_again(tiny_model_dir, tmp_path, capsys):
    write_job(tmp_path, ["rain,0.5,2,3,1,{slug}_{seed}"])
    code, err = batch(tmp_path, tiny_model_dir, capsys)
    assert code == 0, err
    out = tmp_path / "out"
    lines = (out / "manifest.jsonl").read_bytes().splitlines(keepends=True)
    assert json.loads(lines[-1])["path"] == "rain_4.wav"
    # What a writer killed mid-append leaves: its claim, then half a record ending inside a UTF-8 character.
    torn = lines[:-1] + [json.dumps({"claim": "rain_4.wav"}).encode() + b"\n", lines[-1][:40] + "é".encode()[:1]]
    (out / "manifest.jsonl").write_bytes(b"".join(torn))
    code, err = batch(tmp_path, tiny_model_dir, capsys)
    assert code == 0 and "1 rendered, 1 already done" in err, err
    assert sorted(r["path"] for r in records(out)) == ["rain_3.wav", "rain_4.wav"]
    for record in records(out):
        assert file_sha256(out / record["path"]) == record["sha256"]


def test_duplicate_names_in_one_batch_are_refused_up_front(tiny_model_dir, tmp_path, capsys):
    write_job(tmp_path, ["kick drum,0.5,3,3,1,kick"])
    code, err = batch(tmp_path, tiny_model_dir, capsys)
    assert code == 2, err
    assert "line 2: output: its 3 variations would all be named kick.wav; add {seed} or {index}" in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.wav"))


def _limit_file_size(limit):
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_full_disk_while_recording_ends_in_one_line_and_the_rerun_finishes(tiny_model_dir, tmp_path, capsys):
    """The manifest cannot grow (a file-size limit stands in for a full disk) after the first file landed."""
    out = tmp_path / "out"
    old = out / "old"
    old.mkdir(parents=True)
    padding = "x" * 900
    earlier = []
    for i in range(60):  # files of an earlier job: their records make the manifest bigger than a take
        (old / f"{i}.wav").write_bytes(b"old")
        earlier.append({"path": f"old/{i}.wav", "render_key": "k", "sha256": "s", "pad": padding})
    compact(out, earlier)  # as the run will write it before it starts
    size = (out / "manifest.jsonl").stat().st_size
    write_job(tmp_path, ["rain,0.5,1,3,1,{slug}"])
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "core.cli.main", "batch", "jobs.csv", "--out", "out", "--model", str(tiny_model_dir),
            "--device", "cpu", "--quiet"]
    result = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
                            preexec_fn=_limit_file_size(size + 100))  # room for the claim, not the record
    assert result.returncode == 2 and one_line(result.stderr), result.stderr
    assert "manifest.jsonl" in result.stderr and "run the same command again" in result.stderr
    assert (out / "rain.wav").is_file()  # landed whole; only its record is missing
    code, err = batch(tmp_path, tiny_model_dir, capsys)  # room again: the file is ours, rendered and recorded
    assert code == 0 and "1 rendered" in err, err
    assert [r["path"] for r in records(out) if r["path"] == "rain.wav"] == ["rain.wav"]


@pytest.mark.slow
def test_a_second_run_into_the_same_folder_is_refused_and_sigterm_ends_as_143(tiny_model_dir, tmp_path):
    write_job(tmp_path, ["rain,0.5,10,1,1,{slug}_{seed}"])
    gate = tmp_path / "gate"
    gate.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "core.cli.main", "batch", "jobs.csv", "--out", "out", "--model", str(tiny_model_dir),
            "--device", "cpu", "--batch-size", "1", "--quiet"]
    first = subprocess.Popen(argv, cwd=tmp_path, env={**env, "LOA_TEST_WRITE_GATE": str(gate)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not (gate / "before-commit.reached").exists():  # the first run holds the lock, writing its manifest
            assert first.poll() is None, first.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        second = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 2 and one_line(second.stderr), second.stderr
        assert "another `loa batch` is writing into out" in second.stderr
        (gate / "before-commit.release").touch()  # the first run goes on
        (gate / "mid-commit.release").touch()
        while not (tmp_path / "out" / "manifest.jsonl").exists() or not records(tmp_path / "out"):
            assert first.poll() is None, first.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        first.send_signal(signal.SIGTERM)  # stop after the file in flight, exit 143 like every other command
        _, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 143, err
    assert "Run the same command again to resume" in err
    assert 1 <= len(records(tmp_path / "out")) < 10


def test_manifests_written_before_the_header_are_still_ours(tmp_path):
    from core.batch.manifest import read_manifest

    legacy = [{"path": "a.wav", "render_key": "k", "sha256": "s", "seed": 1},
              {"path": "b.wav", "render_key": "k", "sha256": "t", "seed": 2}]
    (tmp_path / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in legacy) + '{"path": "c.w')
    found = read_manifest(tmp_path)
    assert sorted(found.records) == ["a.wav", "b.wav"] and found.owns("a.wav") and not found.owns("c.wav")
    (tmp_path / "manifest.jsonl").write_text("")
    assert read_manifest(tmp_path).records == {}  # an empty file holds nothing to lose
