"""File > Export… remembers, across restarts, the folder and what its fields were left at; a remembered choice the
clip cannot take falls back to "Same as source" with one line saying so; a folder that is gone gives the home
folder. Real window, real dialog (offscreen), real files, a real settings file re-read by a fresh window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from studio_helpers import run_export_dialog

from core.audio.clip import Clip
from core.audio.formats.export import ExportSettings, fit_choice
from core.audio.provenance import Provenance
from studio.export.export_dialog import SAME, ExportDialog
from studio.shell.settings import StudioSettings


def tone_file(folder: Path, name: str, rate: int, channels: int = 2) -> Path:
    t = np.arange(rate // 2) / rate
    wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    path = folder / name
    sf.write(str(path), np.repeat(wave[:, None], channels, axis=1), rate, subtype="PCM_16")
    return path



def shown(dialog):
    return {"format": dialog.format_combo.currentText(), "depth": dialog.depth_combo.currentText(),
            "rate": dialog.rate_combo.currentText(), "channels": dialog.channels_combo.currentText(),
            "folder": dialog.folder_edit.text(), "recall": dialog.recall_label.text(),
            "recall shown": not dialog.recall_label.isHidden(), "result": dialog.result_label.text(),
            "enabled": dialog.export_button.isEnabled()}


def pick(combo, text):
    index = combo.findText(text)
    assert index >= 0, text
    combo.setCurrentIndex(index)


def export_new_file(dialog):
    """Export under a name not taken yet (the same take suggests the same name, and replacing asks first)."""
    stem = Path(dialog.name_edit.text()).stem
    dialog.name_edit.setText(f"{stem} {len(list(Path(dialog.folder_edit.text()).iterdir()))}")
    dialog.export_button.click()


def look_then_export(dialog):
    seen = shown(dialog)
    export_new_file(dialog)
    return seen


@pytest.fixture
def folders(tmp_path):
    sources, exports = tmp_path / "sources", tmp_path / "exports"
    sources.mkdir()
    exports.mkdir()
    return sources, exports


def test_choices_and_folder_are_remembered_and_survive_a_restart(make_window, settings, folders):
    sources, exports = folders
    window = make_window()
    window.editor.import_paths([tone_file(sources, "pad.wav", 44_100)])

    def choose(dialog):
        first = shown(dialog)
        dialog.folder_edit.setText(str(exports))
        pick(dialog.format_combo, "FLAC")
        pick(dialog.depth_combo, "16-bit")
        pick(dialog.rate_combo, "48 kHz")
        dialog.export_button.click()
        return first
    seen = run_export_dialog(choose)
    path = window.export_selected()
    assert seen["result"]["format"].startswith(SAME) and seen["result"]["rate"].startswith(SAME)
    assert not seen["result"]["recall shown"]
    assert path.parent == exports and sf.info(str(path)).samplerate == 48_000

    seen = run_export_dialog(look_then_export)  # reopened in the same session
    again = window.export_selected()
    assert {k: seen["result"][k] for k in ("format", "depth", "rate", "folder")} == {
        "format": "FLAC", "depth": "16-bit", "rate": "48 kHz", "folder": str(exports)}
    assert seen["result"]["channels"].startswith(SAME)  # never changed: stays "Same as source"
    assert again.parent == exports and (sf.info(str(again)).format, sf.info(str(again)).subtype) == ("FLAC", "PCM_16")
    # drag-out and Copy keep following Settings > Export format, untouched by the dialog
    assert settings.export_settings() == ExportSettings()

    window.close()
    restarted = make_window(settings=StudioSettings(settings.path))  # a fresh process reads the same file
    restarted.editor.import_paths([tone_file(sources, "other.wav", 22_050, channels=1)])
    seen = run_export_dialog(look_then_export)
    third = restarted.export_selected()
    assert (seen["result"]["format"], seen["result"]["depth"], seen["result"]["rate"]) == ("FLAC", "16-bit", "48 kHz")
    assert seen["result"]["folder"] == str(exports) and not seen["result"]["recall shown"]
    info = sf.info(str(third))
    assert (third.parent, info.format, info.subtype, info.samplerate, info.channels) == (
        exports, "FLAC", "PCM_16", 48_000, 1)


def test_a_field_set_back_to_same_as_source_is_remembered_as_such(make_window, settings, folders):
    sources, exports = folders
    settings.export_folder = str(exports)
    window = make_window()
    window.editor.import_paths([tone_file(sources, "pad.wav", 44_100)])
    run_export_dialog(lambda dialog: (pick(dialog.channels_combo, "Mono"), export_new_file(dialog)))
    window.export_selected()
    assert settings.last_export_choice()["channels"] == 1

    run_export_dialog(lambda dialog: (pick(dialog.channels_combo, f"{SAME} (stereo)"), export_new_file(dialog)))
    window.export_selected()
    seen = run_export_dialog(look_then_export)
    window.export_selected()
    assert seen["result"]["channels"] == f"{SAME} (stereo)"


def test_same_as_source_stays_after_an_export_and_float_peaks_survive(make_window, settings, folders):
    """Issue 19: a 24-bit FLAC exported with every field left at "Same as source" once made the next dialog
    default to FLAC, so a float WAV peaking at 1.35 was written as 24-bit FLAC, clipped to 1.0."""
    sources, exports = folders
    settings.export_folder = str(exports)
    window = make_window()
    t = np.arange(22_050) / 44_100
    wave = np.repeat((0.5 * np.sin(2 * np.pi * 440 * t))[:, None], 2, axis=1)
    flac = sources / "pad.flac"
    sf.write(str(flac), wave, 44_100, subtype="PCM_24")
    hot = sources / "hot.wav"
    sf.write(str(hot), (wave * 2.7).astype(np.float32), 44_100, subtype="FLOAT")  # peaks at 1.35
    window.editor.import_paths([flac])
    seen = run_export_dialog(look_then_export)
    first = window.export_selected()
    assert seen["result"]["format"].startswith(SAME) and sf.info(str(first)).format == "FLAC"
    assert all(value is None for value in settings.last_export_choice().values())

    window.editor.import_paths([hot])
    seen = run_export_dialog(look_then_export)
    second = window.export_selected()
    assert seen["result"]["format"].startswith(SAME) and seen["result"]["depth"].startswith(SAME)
    info = sf.info(str(second))
    assert (info.format, info.subtype) == ("WAV", "FLOAT")
    assert np.abs(sf.read(str(second))[0]).max() == pytest.approx(1.35, abs=1e-4)


def test_an_impossible_remembered_choice_falls_back_with_one_line(make_window, settings, folders):
    sources, exports = folders
    settings.export_folder = str(exports)
    window = make_window()
    window.editor.import_paths([tone_file(sources, "voice 48k.wav", 48_000)])
    run_export_dialog(lambda dialog: (pick(dialog.format_combo, "Opus"), export_new_file(dialog)))
    assert window.export_selected().suffix == ".opus"
    assert settings.last_export_choice()["container"] == "opus"

    window.editor.import_paths([tone_file(sources, "voice 44k.wav", 44_100)])  # Opus cannot take 44.1 kHz
    seen = run_export_dialog(look_then_export)
    path = window.export_selected()
    result = seen["result"]
    assert result["format"] == f"{SAME} (WAV)" and result["enabled"]
    assert result["recall shown"]
    assert result["recall"] == "Opus cannot hold 44.1 kHz audio: format is back at Same as source for this clip."
    assert "Cannot export" not in result["result"]
    assert sf.info(str(path)).format == "WAV" and sf.info(str(path)).samplerate == 44_100


def test_mp3_remembered_for_a_six_channel_clip_and_a_folder_that_is_gone(qtbot, settings, tmp_path):
    settings.remember_export(ExportSettings(container="mp3", sample_rate=48_000), tmp_path / "gone")
    clip = Clip(np.zeros((4_800, 6), dtype=np.float32), 48_000)
    record = Provenance(prompt="room tone", model_id="tiny", licence="", seed=1, settings={}, score=0.0)
    dialog = ExportDialog(None, clip, record, settings.export_settings(), settings.export_folder,
                          remembered=settings.last_export_choice())
    qtbot.addWidget(dialog)
    assert dialog.format_combo.currentData() is None and dialog.rate_combo.currentData() == 48_000
    assert dialog.recall_label.text() == (
        "MP3 cannot hold 6 channels: format is back at Same as source for this clip. "
        f"The last export folder {tmp_path / 'gone'} is gone: exporting to {Path.home()}.")
    assert dialog.folder_edit.text() == str(Path.home()) and dialog.export_button.isEnabled()


def test_the_menu_choice_replaces_the_dialog_memory_of_that_field(settings, tmp_path):
    settings.remember_export(ExportSettings(container="flac", sample_format="pcm16"), tmp_path)
    settings.export_format = "wav"  # Settings > Export format > WAV, chosen after that export
    assert settings.last_export_choice() == {"sample_format": "pcm16", "sample_rate": None, "channels": None}
    assert "container" not in StudioSettings(settings.path).last_export_choice()
    settings._qs.setValue("export_dialog/sample_rate", "fast")  # hand-edited nonsense is simply not remembered
    assert "sample_rate" not in settings.last_export_choice()


def test_fit_choice_sets_back_the_fewest_fields():
    clip = Clip(np.zeros((4_410, 2), dtype=np.float32), 44_100)
    assert fit_choice(clip, {}, ExportSettings("wav", "pcm16")) == (ExportSettings("wav", "pcm16"), (), "")
    fitted, dropped, why = fit_choice(clip, {}, ExportSettings("opus", None, None, 1))
    assert (fitted, dropped, why) == (ExportSettings(channels=1), ("container",), "Opus cannot hold 44.1 kHz audio")
    fitted, dropped, why = fit_choice(clip, {}, ExportSettings("opus", None, 22_050, None))  # no 22.05 kHz Opus
    assert (fitted, dropped) == (ExportSettings(sample_rate=22_050), ("container",))
    assert why == "Opus cannot hold 22.05 kHz audio"
