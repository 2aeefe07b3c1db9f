"""The speech script's Export… and File > Batch render… offer File > Export…'s formats (studio.export.format_picker): the
files land in the picked container, bit depth and rate; an impossible pick is said in one line and blocks the
button; nothing picked writes the generated-take rule (WAV at 16 kHz, 24-bit, or float above 0 dBFS). Real widgets
offscreen, tiny models."""

import json

import pytest
import soundfile as sf

from studio.export.batch_render import BatchRenderDialog
from studio.export.format_picker import FormatPicker

JOB_TIMEOUT_MS = 240_000


def pick(combo, text):
    index = combo.findText(text)
    assert index >= 0, text
    combo.setCurrentIndex(index)


def info(path):
    found = sf.info(str(path))
    return found.format, found.subtype, found.samplerate


def test_the_picker_names_impossible_choices(qtbot):
    picker = FormatPicker()
    qtbot.addWidget(picker)
    assert picker.choice().to_dict() == {"container": None, "sample_format": None, "sample_rate": None,
                                         "channels": None} and picker.extension() == ".wav" and not picker.problem()
    pick(picker.format_combo, "Opus")
    pick(picker.rate_combo, "44.1 kHz")
    assert picker.problem().startswith("Opus cannot hold 44.1 kHz audio")
    assert not picker.problem_label.isHidden() and not picker.depth_combo.isEnabled()
    pick(picker.rate_combo, "48 kHz")
    assert not picker.problem() and picker.problem_label.isHidden() and picker.extension() == ".opus"
    pick(picker.format_combo, "FLAC")
    pick(picker.depth_combo, "32-bit float")
    assert picker.problem().startswith("FLAC cannot hold 32-bit float samples")



def test_script_export_writes_the_picked_format(qtbot, speech_window, tmp_path):
    box, session = speech_window.speech_tools.script, speech_window.speech_tools.session
    box.editor.setPlainText("Hi.\nBye.\n")
    with qtbot.waitSignal(session.all_done, timeout=JOB_TIMEOUT_MS):
        assert box.render_all()
    assert box.export_button.isEnabled()
    picker = box.format_picker
    pick(picker.format_combo, "Opus")
    pick(picker.rate_combo, "44.1 kHz")
    assert not box.export_button.isEnabled() and "Opus cannot hold 44.1 kHz" in picker.problem_label.text()

    pick(picker.format_combo, "FLAC")
    pick(picker.depth_combo, "24-bit")
    pick(picker.rate_combo, "48 kHz")
    assert box.export_button.isEnabled()
    joined, lines = box.export_to(tmp_path / "flac")
    assert [p.name for p in (joined, *lines)] == ["script.flac", "01-hi.flac", "02-bye.flac"]
    assert {info(p) for p in (joined, *lines)} == {("FLAC", "PCM_24", 48_000)}
    assert sf.info(str(joined)).frames == pytest.approx(session.result().joined.frames * 3, abs=3)

    for combo in (picker.format_combo, picker.depth_combo, picker.rate_combo):
        combo.setCurrentIndex(0)  # the defaults: the generated-take rule
    joined, _ = box.export_to(tmp_path / "plain")
    depth = "FLOAT" if abs(session.result().joined.samples).max() > 1.0 else "PCM_24"
    assert joined.name == "script.wav" and info(joined) == ("WAV", depth, 16_000)


def test_batch_render_writes_the_picked_format_and_refuses_a_clash(qtbot, tmp_path, tiny_model_dir):
    from core.generation.engine_cache import EngineCache
    from core.library.store import Library

    jobs = tmp_path / "rain.csv"
    jobs.write_text(f"prompt,seconds,seed,steps,model\nrain on a tin roof,0.5,1-2,1,{tiny_model_dir}\n")
    dialog = BatchRenderDialog(jobs, EngineCache(device="cpu"), Library(tmp_path / "library"))
    qtbot.addWidget(dialog)
    picker = dialog.format_picker
    pick(picker.format_combo, "AIFF")
    pick(picker.depth_combo, "32-bit float")
    pick(picker.rate_combo, "44.1 kHz")
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    assert dialog.status.text().startswith("Done: 2 rendered"), dialog.status.text()
    out = tmp_path / "rain"
    files = sorted(p for p in out.iterdir() if p.suffix == ".aiff")
    assert [p.name for p in files] == ["rain-on-a-tin-roof_1.aiff", "rain-on-a-tin-roof_2.aiff"]
    assert {info(p) for p in files} == {("AIFF", "FLOAT", 44_100)}
    assert len(dialog.added) == 2  # read back from the AIFF files into the library
    records = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert {r["settings"]["rate"] for r in records if "path" in r} == {44_100}  # (the first line is the header)

    mp3_jobs = tmp_path / "voices.csv"
    mp3_jobs.write_text(f"prompt,seconds,seed,steps,model,output\nrain,0.5,1,1,{tiny_model_dir},{{slug}}.mp3\n")
    clash = BatchRenderDialog(mp3_jobs, EngineCache(device="cpu"), Library(tmp_path / "library2"))
    qtbot.addWidget(clash)
    pick(clash.format_picker.depth_combo, "24-bit")
    clash.start()
    assert not clash.running and "line 2" in clash.status.text() and "MP3 is lossy" in clash.status.text()
    assert not (tmp_path / "voices").exists()
