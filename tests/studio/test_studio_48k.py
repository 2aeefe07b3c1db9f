"""The 48 kHz model in the window, offscreen, through the user's paths: the picker shows it with its rate under Sound
and Music; generated candidates are 48 kHz takes that drag out and export "same as source" as 48 kHz 24-bit WAV and
load onto a pad; the editor regenerates, transforms and continues a 44.1 kHz recording with the outside bit-exact;
a bar-locked loop is sample-exact at 48 kHz."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from studio_helpers import fill_panel

JOB_TIMEOUT_MS = 180_000


@pytest.fixture
def window48(make_window, settings, tiny_48k_model, monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "loa-no-such-server")  # the pads find no JACK server
    folder = str(tiny_48k_model.resolve())
    settings.local_models = [folder]
    window = make_window()
    window.generation_panel.set_model(folder)
    return window


def test_the_picker_offers_the_48k_model_with_its_rate_in_sound_and_music(window48):
    panel = window48.generation_panel
    for mode in ("sound", "music"):
        panel.set_mode(mode)
        labels = [panel.model_combo.itemText(i) for i in range(panel.model_combo.count())]
        (label,) = [text for text in labels if "tiny-audioldm-48k" in text]
        assert "48 kHz" in label, labels
    panel.set_mode("speech")
    assert not any("tiny-audioldm-48k" in panel.model_combo.itemText(i) for i in range(panel.model_combo.count()))


def test_candidates_are_48k_takes_that_export_drag_out_and_load_on_a_pad(qtbot, window48, tmp_path):
    from core.audio.formats.export import resolve

    window = window48
    fill_panel(window, "glass bottle breaking", seconds=1.0, steps=2, candidates=2, seed=11)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=JOB_TIMEOUT_MS) as finished:
        window.generation_panel.request_generate()
    job, result = finished.args
    assert job.status == "finished", job.error
    assert sorted(c.entry.seed for c in window.candidates.cards) == [11, 12]
    card = window.candidates.cards[0]
    assert (card.entry.clip.sample_rate, card.entry.clip.frames) == (48_000, 48_000)

    same = resolve(card.entry.clip, card.entry.settings).settings  # File > Export…'s "Same as source"
    assert (same.container, same.sample_format, same.sample_rate) == ("wav", "pcm24", 48_000)
    card.drag_handler(card.entry, card)  # offscreen, QDrag.exec() returns at once; the file is written first
    (path,) = window.dragout.dragout_folder().glob("*.wav")
    info = sf.info(str(path))
    assert (info.samplerate, info.frames, info.subtype) == (48_000, 48_000, "PCM_24")

    assert window.midi.pads.assign_file(4, path)
    pad = window.midi.controller.pads.pad(4)
    assert (pad.clip.sample_rate, pad.clip.frames) == (48_000, 48_000)


def test_a_bar_locked_loop_from_the_48k_model_is_sample_exact(qtbot, window48):
    window = window48
    panel = window.generation_panel
    panel.set_mode("music")
    panel.set_model(window.settings.local_models[0])
    row = window.midi.bars_row
    window.midi.controller.set_bpm(97.0)
    row.enabled_box.setChecked(True)
    row.bars_spin.setValue(1)
    fill_panel(window, prompt="drum loop", steps=2, candidates=1)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=JOB_TIMEOUT_MS) as finished:
        panel.request_generate()
    clip = finished.args[1].candidates[0].clip
    assert (clip.sample_rate, clip.frames) == (48_000, round(4 * 60 / 97.0 * 48_000))


def _open_44k(window, tmp_path, name):
    rate = 44_100
    t = np.arange(int(2.0 * rate)) / rate
    original = (0.3 * np.sin(2 * np.pi * 330 * t) * (1 + 0.3 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    path = tmp_path / name
    sf.write(str(path), original, rate, subtype="FLOAT")
    window.editor.import_paths([path])
    return original


def _finished_edit(qtbot, window, job):
    assert job is not None
    qtbot.waitUntil(lambda: job.done, timeout=JOB_TIMEOUT_MS)
    assert job.status == "finished", job.error
    ctl = window.editor.controller
    qtbot.waitUntil(lambda: ctl.session is not None and ctl.session.position == 1, timeout=10_000)
    assert ctl.clip().sample_rate == 44_100
    return ctl.clip().samples[:, 0]


@pytest.mark.parametrize("edit", ["regenerate", "transform"])
def test_the_editor_edits_a_44k_recording_with_the_48k_model_keeping_the_outside(qtbot, window48, tmp_path, edit):
    window = window48
    original = _open_44k(window, tmp_path, f"{edit}.wav")
    window.waveform.set_selection(0.5, 1.2)
    params = {"prompt": "a bell", "steps": 2} | ({"strength": 0.6} if edit == "transform" else {})
    edited = _finished_edit(qtbot, window, getattr(window.editor.generative, edit)(params))
    f0, f1 = round(0.5 * 44_100), round(1.2 * 44_100)
    assert len(edited) == len(original)
    np.testing.assert_array_equal(edited[:f0], original[:f0])
    np.testing.assert_array_equal(edited[f1:], original[f1:])
    assert not np.array_equal(edited[f0:f1], original[f0:f1])
    window.editor.controller.discard_edits()


def test_continue_from_the_cursor_with_the_48k_model(qtbot, window48, tmp_path):
    window = window48
    original = _open_44k(window, tmp_path, "phrase.wav")
    window.editor.cursor_to(1.0)
    edited = _finished_edit(qtbot, window, window.editor.generative.continue_here(
        {"prompt": "", "steps": 2, "seconds": 0.5}))
    cut, added = 44_100, round(0.5 * 44_100)
    assert len(edited) == len(original) + added
    np.testing.assert_array_equal(edited[: cut - round(0.02 * 44_100)], original[: cut - round(0.02 * 44_100)])
    np.testing.assert_array_equal(edited[cut + added:], original[cut:])
    window.editor.controller.discard_edits()
