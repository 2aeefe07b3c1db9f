"""One bit-depth rule for generated takes everywhere (issue 19): 24-bit, 32-bit float when the take peaks above
0 dBFS (the README's rule, and what the window's drag-out and Export write). `loa generate`, `loa speak`, a
bar-locked loop and a script's files wrote 16-bit before."""


import numpy as np
import soundfile as sf

from core.audio.clip import Clip
from core.audio.formats.source import generated_sample_format, same_as_source
from core.audio.provenance import Provenance, save_takes
from core.cli.main import main

FAST = ["--steps", "2", "--guidance", "2"]


def expected_subtype(path):
    """The rule, read back: a file at 24-bit peaks at most at full scale; float only when it goes above."""
    info = sf.info(str(path))
    data, _ = sf.read(str(path))
    return info.subtype, ("FLOAT" if np.abs(data).max() > 1.0 else "PCM_24")


def test_the_rule_for_every_container_and_the_window_agrees(tmp_path):
    quiet = Clip(np.full((1600, 2), 0.5, np.float32), 16_000)
    hot = Clip(np.full((1600, 2), 1.5, np.float32), 16_000)
    assert [generated_sample_format(c, k) for c in (quiet, hot) for k in ("wav", "aiff", "flac", "ogg")] == [
        "pcm24", "pcm24", "pcm24", None, "float32", "float32", "pcm24", None]
    for clip in (quiet, hot):
        assert same_as_source(clip, {}).sample_format == generated_sample_format(clip)
    paths = save_takes([(quiet, tmp_path / "quiet.wav", Provenance("q", "test", "none")),
                        (hot, tmp_path / "hot.wav", Provenance("h", "test", "none")),
                        (hot, tmp_path / "hot.flac", Provenance("h", "test", "none")),
                        (hot, tmp_path / "hot.aiff", Provenance("h", "test", "none"))])
    assert [sf.info(str(p)).subtype for p in paths] == ["PCM_24", "FLOAT", "PCM_24", "FLOAT"]
    assert sf.read(str(paths[1]))[0].max() == 1.5  # the peaks are kept
    assert save_takes([(hot, tmp_path / "chosen.wav", Provenance("c", "test", "none"))], subtype="pcm16") and \
        sf.info(str(tmp_path / "chosen.wav")).subtype == "PCM_16"  # a chosen bit depth still wins


def test_generate_and_a_bar_locked_loop_follow_the_rule(tiny_model_dir, tmp_path, capsys):
    plain = tmp_path / "plain.wav"
    assert main(["generate", "rain", "--model", str(tiny_model_dir), "--device", "cpu", *FAST, "--seconds", "1",
                 "--seed", "3", "-o", str(plain), "--quiet"]) == 0
    subtype, rule = expected_subtype(plain)
    assert subtype == rule
    loop = tmp_path / "loop.wav"
    assert main(["generate", "techno loop", "--model", str(tiny_model_dir), "--device", "cpu", *FAST, "--seed",
                 "5", "--bars", "1", "--bpm", "120", "-o", str(loop), "--quiet"]) == 0
    subtype, rule = expected_subtype(loop)
    assert subtype == rule
    capsys.readouterr()


def test_speak_and_a_script_follow_the_rule(tiny_speech_model_dir, tmp_path, capsys):
    one = tmp_path / "hello.wav"
    assert main(["speak", "Hello there.", "-o", str(one), "--seed", "3", "--model", str(tiny_speech_model_dir),
                 *FAST]) == 0
    subtype, rule = expected_subtype(one)
    assert subtype == rule
    script = tmp_path / "show.txt"
    script.write_text("Hello and welcome.\nSee you soon.\n")
    out = tmp_path / "show"
    assert main(["speak", "--script", str(script), "-o", str(out), "--seed", "9", "--json", "--model",
                 str(tiny_speech_model_dir), *FAST]) == 0
    files = sorted(p for p in out.iterdir() if p.suffix == ".wav")
    assert len(files) == 3
    for path in files:
        subtype, rule = expected_subtype(path)
        assert subtype == rule, path.name
    capsys.readouterr()
