"""Generative edits from the editor's selection run as jobs on the tiny model and come back as undoable versions."""

from __future__ import annotations

import numpy as np
import soundfile as sf


def test_regenerate_selection_comes_back_as_an_undoable_version(tiny_window, qtbot, tmp_path):
    window = tiny_window
    rate = 16_000
    t = np.arange(int(1.5 * rate)) / rate
    original = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    path = tmp_path / "hum.wav"
    sf.write(str(path), original, rate, subtype="FLOAT")
    window.editor.import_paths([path])
    ctl = window.editor.controller
    window.waveform.set_selection(0.5, 0.9)

    job = window.editor.generative.regenerate({"prompt": "a bell", "steps": 2})
    assert job is not None and job.spec.extra["editor_edit"]
    qtbot.waitUntil(lambda: job.done, timeout=180_000)
    assert job.status == "finished", job.error
    qtbot.waitUntil(lambda: ctl.session is not None and ctl.session.position == 1, timeout=10_000)
    edited = ctl.clip().samples[:, 0]
    assert len(edited) == len(original)
    np.testing.assert_array_equal(edited[:8000], original[:8000])       # outside the selection: bit-exact
    np.testing.assert_array_equal(edited[14400:], original[14400:])
    assert not np.array_equal(edited[8400:14000], original[8400:14000])  # inside: regenerated
    assert window.candidates.cards == [] or all(c.entry.mode != "edit" for c in window.candidates.cards)
    assert ctl.session.history()[-1].operation["op"] == "regenerate"

    window.editor.undo()
    qtbot.waitUntil(lambda: ctl.session.position == 0, timeout=10_000)
    np.testing.assert_array_equal(ctl.clip().samples[:, 0], original)
    ctl.discard_edits()


def test_a_selection_the_model_cannot_hold_is_refused_at_once(tiny_window, tmp_path):
    window = tiny_window
    rate = 16_000
    path = tmp_path / "long.wav"
    sf.write(str(path), (0.2 * np.random.default_rng(1).standard_normal(12 * rate)).astype(np.float32), rate)
    window.editor.import_paths([path])
    window.waveform.set_selection(0.5, 11.5)
    assert window.editor.generative.regenerate({"prompt": "", "steps": 2}) is None
    assert window.error_banner.isVisible() and window.error_banner.text().startswith("Regenerate selection:")
    assert window.jobs.jobs == {}


def test_transform_selection_keeps_the_outside_bit_exact_and_is_undoable(tiny_window, qtbot, tmp_path):
    window = tiny_window
    rate = 16_000
    t = np.arange(rate) / rate
    original = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    path = tmp_path / "knock.wav"
    sf.write(str(path), original, rate, subtype="FLOAT")
    window.editor.import_paths([path])
    ctl = window.editor.controller
    assert window.editor.actions.by_key["gen.transform"].isEnabled()
    window.waveform.set_selection(0.2, 0.6)
    job = window.editor.generative.transform({"prompt": "a knock on a metal door", "strength": 0.6, "steps": 2})
    qtbot.waitUntil(lambda: job.done, timeout=180_000)
    assert job.status == "finished", job.error
    qtbot.waitUntil(lambda: ctl.session is not None and ctl.session.position == 1, timeout=10_000)
    edited = ctl.clip().samples[:, 0]
    np.testing.assert_array_equal(edited[:3200], original[:3200])   # outside the selection: bit-exact
    np.testing.assert_array_equal(edited[9600:], original[9600:])
    window.editor.undo()
    qtbot.waitUntil(lambda: ctl.session.position == 0, timeout=10_000)
    np.testing.assert_array_equal(ctl.clip().samples[:, 0], original)
    ctl.discard_edits()


def test_continue_from_the_cursor_inserts_new_audio_and_keeps_what_followed(tiny_window, qtbot, tmp_path):
    window = tiny_window
    rate = 16_000
    t = np.arange(rate) / rate
    original = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    path = tmp_path / "phrase.wav"
    sf.write(str(path), original, rate, subtype="FLOAT")
    window.editor.import_paths([path])
    ctl = window.editor.controller
    window.editor.cursor_to(0.5)
    job = window.editor.generative.continue_here({"prompt": "", "steps": 2, "seconds": 0.5})
    qtbot.waitUntil(lambda: job.done, timeout=180_000)
    assert job.status == "finished", job.error
    qtbot.waitUntil(lambda: ctl.session is not None and ctl.session.position == 1, timeout=10_000)
    edited = ctl.clip().samples[:, 0]
    assert len(edited) == len(original) + 8000
    np.testing.assert_array_equal(edited[:7680], original[:7680])      # before the seam's 20 ms crossfade
    np.testing.assert_array_equal(edited[16000:], original[8000:])     # what followed the cursor, after the new part
    assert window.waveform.selection() == (0.5, 1.0)                   # the new audio is selected
    ctl.discard_edits()  # nothing left for the quit question at teardown


def test_a_cancelled_generative_edit_changes_nothing(tiny_window, qtbot, tmp_path):
    window = tiny_window
    rate = 16_000
    original = (0.3 * np.sin(2 * np.pi * 220 * np.arange(rate) / rate)).astype(np.float32)
    path = tmp_path / "keep.wav"
    sf.write(str(path), original, rate, subtype="FLOAT")
    window.editor.import_paths([path])
    window.waveform.set_selection(0.2, 0.6)
    job = window.editor.generative.regenerate({"prompt": "", "steps": 50})
    window.jobs.cancel(job.id)
    qtbot.waitUntil(lambda: job.done, timeout=180_000)
    assert job.status == "cancelled"
    qtbot.waitUntil(lambda: window.editor.controller.session is None, timeout=5000)
    np.testing.assert_array_equal(window.editor.controller.clip().samples[:, 0], original)


def _loop_in_a_clip(window, tmp_path, name):
    """A 3 s clip whose 0.5 s .. 2.5 s is one bar at 120 bpm, selected."""
    rate = 16_000
    t = np.arange(3 * rate) / rate
    original = (0.3 * np.sin(2 * np.pi * 110 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t))).astype(np.float32)
    path = tmp_path / name
    sf.write(str(path), original, rate, subtype="FLOAT")
    window.editor.import_paths([path])
    window.waveform.set_selection(0.5, 2.5)
    return original


def test_extend_loop_adds_exact_bars_after_the_selection_and_is_undoable(tiny_window, qtbot, tmp_path):
    window = tiny_window
    original = _loop_in_a_clip(window, tmp_path, "groove.wav")
    ctl = window.editor.controller
    job = window.editor.generative.extend_loop({"prompt": "", "steps": 2, "bars": 1, "bpm": 120.0})
    assert job is not None and job.spec.extra["editor_edit"]
    qtbot.waitUntil(lambda: job.done, timeout=180_000)
    assert job.status == "finished", job.error
    qtbot.waitUntil(lambda: ctl.session is not None and ctl.session.position == 1, timeout=10_000)
    edited = ctl.clip().samples[:, 0]
    assert len(edited) == len(original) + 32_000                       # one bar of 4 beats at 120 bpm: 2 s
    np.testing.assert_array_equal(edited[:8000], original[:8000])       # before the loop: bit-exact
    np.testing.assert_array_equal(edited[72_000:], original[40_000:])   # what followed the loop, after the new bar
    assert not np.array_equal(edited[40_000:72_000], original[8000:40_000])  # the new bar is new audio
    assert window.waveform.selection() == (0.5, 4.5)                    # the extended loop is selected
    assert ctl.session.history()[-1].operation["op"] == "extend_loop"
    window.editor.undo()
    qtbot.waitUntil(lambda: ctl.session.position == 0, timeout=10_000)
    np.testing.assert_array_equal(ctl.clip().samples[:, 0], original)
    ctl.discard_edits()


def test_close_loop_rewrites_only_the_loops_end_and_is_undoable(tiny_window, qtbot, tmp_path):
    window = tiny_window
    original = _loop_in_a_clip(window, tmp_path, "ring.wav")
    ctl = window.editor.controller
    job = window.editor.generative.close_loop({"prompt": "", "steps": 2})
    qtbot.waitUntil(lambda: job.done, timeout=180_000)
    assert job.status == "finished", job.error
    qtbot.waitUntil(lambda: ctl.session is not None and ctl.session.position == 1, timeout=10_000)
    edited = ctl.clip().samples[:, 0]
    assert len(edited) == len(original)
    np.testing.assert_array_equal(edited[:24_000], original[:24_000])   # before the loop and its first second
    np.testing.assert_array_equal(edited[40_000:], original[40_000:])   # after the loop: bit-exact
    assert not np.array_equal(edited[33_000:40_000], original[33_000:40_000])  # the closing 0.5 s is new
    assert ctl.session.history()[-1].operation["op"] == "close_loop"
    window.editor.undo()
    qtbot.waitUntil(lambda: ctl.session.position == 0, timeout=10_000)
    np.testing.assert_array_equal(ctl.clip().samples[:, 0], original)
    ctl.discard_edits()


def test_editor_edits_carry_the_panels_guidance_negative_prompt_and_seed_lock(tiny_window, qtbot, tmp_path):
    """Regenerate and Continue from here run with the generation panel's settings, not the defaults: the
    recorded operation of the new version holds the panel's guidance, negative prompt and locked seed."""
    window = tiny_window
    panel = window.generation_panel
    panel.guidance_spin.setValue(6.5)
    panel.negative_edit.setText("hiss, crackle")
    panel.seed_field.setValue(4242)
    panel.seed_lock.setChecked(True)
    rate = 16_000
    original = (0.3 * np.sin(2 * np.pi * 330 * np.arange(rate) / rate)).astype(np.float32)
    path = tmp_path / "tone.wav"
    sf.write(str(path), original, rate, subtype="FLOAT")
    window.editor.import_paths([path])
    ctl = window.editor.controller
    window.waveform.set_selection(0.3, 0.6)
    job = window.editor.generative.regenerate({"prompt": "a bell", "steps": 2})
    qtbot.waitUntil(lambda: job.done, timeout=180_000)
    assert job.status == "finished", job.error
    qtbot.waitUntil(lambda: ctl.session is not None and ctl.session.position == 1, timeout=10_000)
    operation = ctl.session.history()[-1].operation
    assert operation["op"] == "regenerate"
    assert operation["guidance"] == 6.5 and operation["negative_prompt"] == "hiss, crackle"
    assert operation["seed"] == 4242 and operation["steps"] == 2
    assert operation["model"] == str(window.generation_panel.selected_choice().spec)

    window.editor.cursor_to(0.5)
    job = window.editor.generative.continue_here({"prompt": "", "steps": 2, "seconds": 0.25})
    qtbot.waitUntil(lambda: job.done, timeout=180_000)
    assert job.status == "finished", job.error
    qtbot.waitUntil(lambda: ctl.session.position == 2, timeout=10_000)
    operation = ctl.session.history()[-1].operation
    assert operation["op"] == "continue"
    # The negative prompt alone steers, so the panel's guidance applies even without a prompt.
    assert operation["guidance"] == 6.5 and operation["negative_prompt"] == "hiss, crackle"
    ctl.discard_edits()
