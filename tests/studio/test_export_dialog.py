"""File > Export… in the real window: "Same as source" is the default, the dialog says what it resolves to, the
user can override format, bit depth, rate and channels, impossible combinations are refused in one line, and an
edited clip still exports like the file it came from."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from studio_helpers import run_export_dialog

from core.audio.clip import load_clip
from studio.export.export_dialog import SAME


@pytest.fixture
def flac24(tmp_path, corpus_files):
    """Two seconds of the corpus music (44.1 kHz stereo) as a 24-bit FLAC."""
    music = load_clip(next(p for p in corpus_files if p.name.startswith("music_intro")))
    path = tmp_path / "music intro.flac"
    sf.write(str(path), music.samples[44_100:3 * 44_100] * 0.9, 44_100, format="FLAC", subtype="PCM_24")
    return path




def labels(dialog):
    return {"format": dialog.format_combo.currentText(), "depth": dialog.depth_combo.currentText(),
            "rate": dialog.rate_combo.currentText(), "channels": dialog.channels_combo.currentText(),
            "source": dialog.source_label.text(), "result": dialog.result_label.text(),
            "name": dialog.name_edit.text(), "enabled": dialog.export_button.isEnabled()}


def test_the_dialog_defaults_to_same_as_source_and_says_what_it_is(make_window, flac24, exports):
    window = make_window()
    window.editor.import_paths([flac24])

    def press_export(dialog):
        shown = labels(dialog)
        dialog.export_button.click()
        return shown
    seen = run_export_dialog(press_export)
    path = window.export_selected()

    shown = seen["result"]
    assert (shown["format"], shown["depth"], shown["rate"], shown["channels"]) == (
        f"{SAME} (FLAC)", f"{SAME} (24-bit)", f"{SAME} (44.1 kHz)", f"{SAME} (stereo)")
    assert shown["source"] == "Same as source: FLAC 24-bit, 44.1 kHz, stereo"
    assert shown["result"].startswith("Writes: FLAC 24-bit, 44.1 kHz, stereo.")
    assert shown["name"].endswith(".flac") and shown["enabled"]
    assert path.parent == exports and path.suffix == ".flac"
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("FLAC", "PCM_24", 44_100, 2)
    np.testing.assert_array_equal(sf.read(str(path), dtype="int32")[0], sf.read(str(flac24), dtype="int32")[0])


def test_overrides_and_an_impossible_combination(make_window, tmp_path, exports):
    t = np.arange(44_100) / 44_100
    source = tmp_path / "voice.mp3"
    sf.write(str(source), (0.4 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), 44_100, format="MP3",
             subtype="MPEG_LAYER_III")
    window = make_window()
    window.editor.import_paths([source])

    def choose(dialog):
        steps = {"default": labels(dialog)}
        dialog.format_combo.setCurrentIndex(dialog.format_combo.findText("Opus"))
        steps["opus"] = labels(dialog)
        dialog.rate_combo.setCurrentIndex(dialog.rate_combo.findText("48 kHz"))
        steps["opus 48"] = labels(dialog)
        dialog.format_combo.setCurrentIndex(dialog.format_combo.findText("WAV"))
        dialog.depth_combo.setCurrentIndex(dialog.depth_combo.findText("16-bit"))
        dialog.channels_combo.setCurrentIndex(dialog.channels_combo.findText("Stereo"))
        steps["wav"] = labels(dialog)
        dialog.export_button.click()
        return steps
    seen = run_export_dialog(choose)
    path = window.export_selected()

    steps = seen["result"]
    assert steps["default"]["source"] == "Same as source: WAV 32-bit float, 44.1 kHz, mono"
    assert "Source was MP3 (lossy): exporting as WAV 32-bit float" in steps["default"]["result"]
    assert "second lossy encode" in steps["default"]["result"]
    assert not steps["opus"]["enabled"]
    assert "Opus cannot hold 44.1 kHz audio" in steps["opus"]["result"]
    assert "choose one of those" in steps["opus"]["result"]
    assert steps["opus 48"]["enabled"] and steps["opus 48"]["name"].endswith(".opus")
    assert steps["wav"]["result"].startswith("Writes: WAV 16-bit, 48 kHz, stereo.")
    info = sf.info(str(path))
    assert (path.suffix, info.subtype, info.samplerate, info.channels) == (".wav", "PCM_16", 48_000, 2)


def test_an_edited_clip_exports_like_the_file_it_came_from(make_window, qtbot, flac24, exports):
    window = make_window()
    window.editor.import_paths([flac24])
    controller = window.editor.controller
    window.waveform.set_selection(0.5, 1.0)
    assert controller.apply("gain", {"db": -6.0})
    qtbot.waitUntil(lambda: not controller.busy and controller.session is not None, timeout=5000)
    assert controller.save_version() is not None  # a new library version of the imported file
    window.waveform.clear_selection()  # export the whole edited clip

    seen = run_export_dialog(lambda dialog: (labels(dialog), dialog.export_button.click())[0])
    path = window.export_selected()
    assert seen["result"]["source"] == "Same as source: FLAC 24-bit, 44.1 kHz, stereo"
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("FLAC", "PCM_24", 44_100, 2)
    edited = controller.clip().samples
    np.testing.assert_array_equal(sf.read(str(path), dtype="float32")[0], np.round(edited * 2**23) / 2**23)
    controller.discard_edits()


def test_the_export_menu_starts_at_same_as_source(make_window, settings):
    window = make_window()
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Settings")
    export_menu = next(a.menu() for a in menu.actions() if a.menu() and "xport" in a.text())
    checked = [a.text() for a in export_menu.actions() if a.isChecked()]
    assert checked == ["Same as source"] * 4
    chosen = settings.export_settings()
    assert (chosen.container, chosen.sample_format, chosen.sample_rate, chosen.channels) == (None,) * 4
