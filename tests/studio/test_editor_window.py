"""The waveform editor in the real main window: menu, toolbar and shortcut edits give the core's results, undo
returns the identical array, files open by import (every corpus format; an unreadable one changes nothing),
quitting with unsaved edits asks, and a session left open is restored with its history."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from core.audio.clip import Clip
from core.editing import Selection, fades, gain, splice


def stereo_clip(seconds=2.0, rate=22_050):
    t = np.arange(int(seconds * rate)) / rate
    left = 0.4 * np.sin(2 * np.pi * 220 * t)
    right = 0.3 * np.sin(2 * np.pi * 330 * t + 0.5)
    return Clip(np.stack([left, right], axis=1).astype(np.float32), rate)


@pytest.fixture
def opened(make_window, tmp_path):
    """A window with a 2 s stereo 22.05 kHz WAV opened through the editor (as File > Open… does)."""
    clip = stereo_clip()
    path = tmp_path / "two tones.wav"
    sf.write(str(path), clip.samples, clip.sample_rate, subtype="FLOAT")
    window = make_window()
    window.editor.import_paths([path])
    yield window, clip
    if window.editor.controller.session is not None:
        window.editor.controller.discard_edits()  # nothing left to ask about at teardown


def shown(window) -> Clip:
    return window.editor.controller.clip()


def select(window, start, end):
    window.waveform.set_selection(start, end)
    return Selection.from_seconds(start, end, shown(window).sample_rate)


def focus(qtbot, window, widget):
    """Shortcuts need the window active and the focus inside the editor (or the library)."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus, timeout=2000)


def answer_next_dialog(qtbot, button_text=None, values=None):
    """Answer the next modal dialog (parameter form or message box) once it is shown; the returned dict gets the
    message box's text as "text"."""
    seen = {}

    def answer():
        widget = QApplication.activeModalWidget()
        if widget is None:
            QTimer.singleShot(20, answer)
            return
        if isinstance(widget, QMessageBox):
            seen["text"] = widget.text()
            for button in widget.buttons():
                if button.text() == button_text:
                    button.click()
                    return
            raise AssertionError(f"no button {button_text!r} in {[b.text() for b in widget.buttons()]}")
        for key, value in (values or {}).items():
            widget.findChild(object, key).setValue(value)
        widget.accept()
    QTimer.singleShot(20, answer)
    return seen


def test_an_opened_file_keeps_its_rate_and_channels_and_lands_in_the_library(opened):
    window, clip = opened
    assert shown(window).sample_rate == 22_050 and shown(window).channels == 2
    np.testing.assert_array_equal(shown(window).samples, clip.samples)
    items = window.library.search()
    assert [i.mode for i in items] == ["import"]
    assert items[0].settings["source_format"] == "WAV" and items[0].settings["source_subtype"] == "FLOAT"
    assert window.selected_entry().clip is shown(window)


def test_menu_toolbar_and_shortcut_edits_give_the_core_results_and_undo_returns_the_original(opened, qtbot):
    window, original = opened
    actions = window.editor.actions.by_key
    expected = original

    sel = select(window, 0.5, 1.0)
    actions["edit.delete"].trigger()  # Edit > Delete
    expected = splice.delete(expected, sel).clip
    np.testing.assert_array_equal(shown(window).samples, expected.samples)

    sel = select(window, 0.2, 0.4)
    focus(qtbot, window, window.waveform)
    qtbot.keyClick(window.waveform, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier)  # Ctrl+X
    cut = splice.cut(expected, sel)
    expected = cut.clip
    np.testing.assert_array_equal(shown(window).samples, expected.samples)
    window.editor.cursor_to(1.0)
    qtbot.keyClick(window.waveform, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)  # Ctrl+V at the cursor
    expected = splice.paste(expected, Selection.cursor(22_050), cut.clipboard).clip
    np.testing.assert_array_equal(shown(window).samples, expected.samples)

    assert window.waveform.selection() == pytest.approx((1.0, 1.2), abs=1e-4)  # the pasted span is selected
    window.waveform.clear_selection()
    toolbar_button = window.findChild(object, "tool-edit.reverse")
    qtbot.mouseClick(toolbar_button, Qt.MouseButton.LeftButton)  # toolbar: Reverse (no selection: whole clip)
    from core.editing import convert
    expected = convert.reverse(expected, Selection.cursor(22_050)).clip
    np.testing.assert_array_equal(shown(window).samples, expected.samples)

    sel = select(window, 0.1, 0.6)
    answer_next_dialog(qtbot, values={"db": -6.0})
    actions["edit.gain"].trigger()  # Gain… asks, then applies
    qtbot.waitUntil(lambda: window.editor.controller.session.position == 5, timeout=3000)
    expected = gain.gain(expected, sel, db=-6.0).clip
    np.testing.assert_array_equal(shown(window).samples, expected.samples)

    sel = select(window, 0.0, 0.3)
    actions["edit.fade_in.s-curve"].trigger()
    expected = fades.fade_in(expected, sel, curve="s-curve").clip
    np.testing.assert_array_equal(shown(window).samples, expected.samples)

    sel = select(window, 0.2, 0.9)
    focus(qtbot, window, window.waveform)  # the Gain dialog had the focus
    qtbot.keyClick(window.waveform, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)  # Ctrl+T trim
    expected = splice.trim(expected, sel).clip
    np.testing.assert_array_equal(shown(window).samples, expected.samples)
    assert shown(window).sample_rate == 22_050 and shown(window).channels == 2

    steps = window.editor.controller.session.position
    assert steps == 7
    for _ in range(steps):
        qtbot.keyClick(window.waveform, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(shown(window).samples, original.samples)  # the identical array
    assert not window.editor.controller.can_undo
    qtbot.keyClick(window.waveform, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)  # redo
    np.testing.assert_array_equal(shown(window).samples, splice.delete(original, Selection(11025, 22050)).clip.samples)


def test_select_all_silence_and_home_end_move_the_cursor(opened, qtbot):
    window, original = opened
    focus(qtbot, window, window.waveform)
    qtbot.keyClick(window.waveform, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert window.waveform.selection() == pytest.approx((0.0, original.seconds))
    qtbot.keyClick(window.waveform, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # Ctrl+L silence
    expected = splice.silence(original, Selection.whole(original)).clip
    np.testing.assert_array_equal(shown(window).samples, expected.samples)
    qtbot.keyClick(window.waveform, Qt.Key.Key_End)
    assert window.waveform.cursor() == pytest.approx(original.seconds) and window.waveform.selection() is None
    qtbot.keyClick(window.waveform, Qt.Key.Key_Home)
    assert window.waveform.cursor() == 0.0


def test_zoom_shortcuts_and_zoom_to_selection(opened, qtbot):
    window, _ = opened
    view = window.waveform
    focus(qtbot, window, view)
    qtbot.keyClick(view, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert view.view_range()[1] - view.view_range()[0] == pytest.approx(1.0)
    qtbot.keyClick(view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert view.view_range() == pytest.approx((0.0, 2.0))
    select(window, 1.2, 1.5)
    qtbot.keyClick(view, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert view.view_range() == pytest.approx((1.2, 1.5))


def test_delete_in_the_library_still_trashes_and_ctrl_z_there_restores(opened, qtbot):
    window, _ = opened
    panel = window.library_panel
    panel.list.setCurrentRow(0)
    focus(qtbot, window, panel.list)
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: window.library.count() == 0, timeout=3000)
    focus(qtbot, window, panel.list)
    qtbot.keyClick(panel.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.library.count() == 1


def test_every_corpus_file_opens_in_the_editor(make_window, corpus_files):
    window = make_window()
    for path in corpus_files:
        entries = window.editor.import_paths([path])
        assert len(entries) == 1, window.statusBar().currentMessage()
        info = sf.info(str(path))
        clip = shown(window)
        assert (clip.sample_rate, clip.channels) == (info.samplerate, info.channels)
        assert clip.frames > 0
    assert window.library.count() == len(corpus_files)


def test_an_unreadable_file_gives_one_message_and_changes_nothing(opened, tmp_path):
    window, clip = opened
    bad = tmp_path / "notes.wav"
    bad.write_bytes(b"this is not audio at all" * 10)
    before = window.library.count()
    assert window.editor.import_paths([bad]) == []
    assert window.library.count() == before
    assert window.error_banner.isVisible()
    assert window.error_banner.text().startswith("Cannot read notes.wav as audio")
    assert "\n" not in window.error_banner.text()
    np.testing.assert_array_equal(shown(window).samples, clip.samples)  # the editor still shows the clip


def test_save_as_new_version_keeps_the_original_and_records_provenance(opened):
    window, clip = opened
    select(window, 0.0, 0.5)
    window.editor.actions.by_key["edit.delete"].trigger()
    original_id = window.editor.controller.origin.library_id
    new_id = window.editor.controller.save_version()
    assert new_id is not None and new_id != original_id
    np.testing.assert_array_equal(window.library.get(original_id).load_clip().samples, clip.samples)
    version = window.library.get(new_id)
    assert version.load_clip().frames == clip.frames - 11025
    assert [item.id for item in window.library.lineage(new_id)] == [new_id, original_id]
    assert version.operations[0]["op"] == "delete"
    assert not window.editor.controller.has_unsaved_edits
    rows = [window.library_panel.list.item(i) for i in range(window.library_panel.list.count())]
    texts = [r.text() for r in rows]
    assert any(f"version of #{original_id} · Delete" in text for text in texts), texts
    tips = [r.toolTip() for r in rows]
    assert any("Provenance:" in tip and f"#{original_id} two tones [import] (original)" in tip for tip in tips), tips


def test_quitting_with_unsaved_edits_asks_and_cancel_keeps_the_window(opened, qtbot):
    window, clip = opened
    select(window, 0.0, 0.5)
    window.editor.actions.by_key["edit.silence"].trigger()
    answer_next_dialog(qtbot, button_text="Cancel")
    assert not window.close()
    assert window.isVisible() and window.editor.controller.has_unsaved_edits
    answer_next_dialog(qtbot, button_text="Save as new version")
    assert window.close()
    versions = [i for i in window.library.search() if i.settings.get("derived_from") or i.id != 1]
    assert versions, "the edit was saved as a new version"


def test_a_session_left_open_is_restored_with_its_undo_history(make_window, tmp_path, qtbot):
    clip = stereo_clip()
    path = tmp_path / "take.wav"
    sf.write(str(path), clip.samples, clip.sample_rate, subtype="FLOAT")
    first = make_window()
    qtbot.wait(20)  # its own start-up offer runs now (nothing to restore yet)
    first.editor.import_paths([path])
    select(first, 0.5, 1.0)
    first.editor.actions.by_key["edit.delete"].trigger()
    select(first, 0.1, 0.2)
    first.editor.actions.by_key["edit.reverse"].trigger()
    edited = shown(first).samples.copy()
    session = first.editor.controller.session
    session.abandon()  # as if its process had died (the real kill -9: test_editor_crash)
    first.editor.controller.session = None  # the window is gone without closing it

    answer_next_dialog(qtbot, button_text="Restore")  # the window's own offer when it starts
    second = make_window()
    qtbot.waitUntil(lambda: second.editor.controller.session is not None, timeout=5000)
    restored = second.editor.controller.session
    assert restored.position == 2 and [s.label for s in restored.history()][1:] == ["Delete", "Reverse"]
    np.testing.assert_array_equal(shown(second).samples, edited)
    second.editor.controller.undo()
    second.editor.controller.undo()
    np.testing.assert_array_equal(shown(second).samples, clip.samples)
    second.editor.controller.discard_edits()


def test_a_long_clip_is_edited_off_the_gui_thread_and_the_window_keeps_answering(make_window, qtbot, tmp_path):
    rate = 48_000
    samples = (0.1 * np.random.default_rng(2).standard_normal((60 * rate, 2))).astype(np.float32)  # 1 min stereo
    path = tmp_path / "long.wav"
    sf.write(str(path), samples, rate, subtype="FLOAT")
    window = make_window()
    window.editor.import_paths([path])
    ctl = window.editor.controller
    select(window, 10.0, 20.0)
    window.editor.actions.by_key["edit.delete"].trigger()
    assert ctl.busy  # handed to the worker: the trigger returned before the edit was done
    assert not window.editor.actions.by_key["edit.cut"].isEnabled()  # edits wait for it
    qtbot.waitUntil(lambda: not ctl.busy, timeout=30_000)
    assert ctl.clip().frames == 50 * rate
    assert window.editor.actions.by_key["edit.cut"].isEnabled()
    ctl.discard_edits()


def test_help_lists_the_editor_shortcuts(opened, qtbot):
    window, _ = opened
    answer_next_dialog(qtbot, button_text="OK")
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    shown_text = []
    original = QMessageBox.information

    def capture(parent, title, text, *args):
        shown_text.append(text)
        return original(parent, title, text, *args)

    QMessageBox.information = capture
    try:
        next(a for a in help_menu.actions() if a.text() == "&Keyboard shortcuts").trigger()
    finally:
        QMessageBox.information = original
    text = shown_text[0]
    for keys in ("Ctrl+T", "Ctrl+L", "Ctrl+2: zoom to the selection", "Ctrl+Y, Ctrl+Shift+Z", "Shift+Space"):
        assert keys in text, text


def test_switching_clips_keeps_the_history_and_showing_it_again_brings_the_edits_back(opened, tmp_path):
    window, clip = opened
    ctl = window.editor.controller
    first_id = ctl.origin.library_id
    select(window, 0.0, 0.5)
    window.editor.actions.by_key["edit.delete"].trigger()
    edited = shown(window).samples.copy()
    other = tmp_path / "other.wav"
    sf.write(str(other), np.zeros((4000, 1), np.float32) + 0.1, 8000)
    window.editor.import_paths([other])  # another clip: the first one's session is closed, not lost
    assert ctl.session is None and shown(window).sample_rate == 8000
    from studio.shell.clip_entry import ClipEntry

    window.show_entry(ClipEntry.from_library(window.library.get(first_id)))
    assert ctl.session is not None and ctl.session.position == 1
    np.testing.assert_array_equal(shown(window).samples, edited)
    ctl.undo()
    np.testing.assert_array_equal(shown(window).samples, clip.samples)


def test_snap_to_zero_crossings_moves_the_edges_before_the_edit(opened):
    window, clip = opened
    from core.editing import snap_to_zero_crossings

    window.editor.actions.by_key["edit.snap"].setChecked(True)
    sel = select(window, 0.5013, 0.9017)
    snapped = snap_to_zero_crossings(clip, sel)
    assert snapped != sel
    window.editor.actions.by_key["edit.delete"].trigger()
    np.testing.assert_array_equal(shown(window).samples, splice.delete(clip, snapped).clip.samples)


def test_normalise_loudness_from_the_menu_on_a_long_clip_meets_the_target_and_undoes(make_window, qtbot, tmp_path):
    """Edit > Normalise loudness… on a 1-minute stereo clip: runs on the editor's worker thread, lands on the
    target by libebur128's meter with the true peak under the limit, and undo gives back the identical
    array."""
    from tests.loudness_reference import ebur128_lufs
    from tests.test_editing_measure import brute_true_peak

    rate = 48_000
    t = np.arange(60 * rate) / rate
    tone = 0.05 * np.sin(2 * np.pi * 440 * t)[:, None] + 0.01 * np.random.default_rng(4).standard_normal((t.size, 2))
    samples = tone.astype(np.float32)
    path = tmp_path / "quiet minute.wav"
    sf.write(str(path), samples, rate, subtype="FLOAT")
    window = make_window()
    window.editor.import_paths([path])
    ctl = window.editor.controller
    answer_next_dialog(qtbot, values={"lufs": -14.0, "true_peak_limit": -1.0})
    window.editor.actions.by_key["edit.normalize_loudness"].trigger()
    qtbot.waitUntil(lambda: not ctl.busy and ctl.session.position == 1, timeout=30_000)
    result = shown(window).samples
    assert ebur128_lufs(result, rate) == pytest.approx(-14.0, abs=0.02)
    assert brute_true_peak(result) <= 10 ** (-1.0 / 20)
    ctl.undo()
    qtbot.waitUntil(lambda: not ctl.busy, timeout=30_000)
    np.testing.assert_array_equal(shown(window).samples, samples)
    ctl.discard_edits()


def test_unsaved_edits_of_other_clips_are_marked_named_at_quit_and_offered_at_the_next_start(opened, tmp_path,
                                                                                            make_window, qtbot):
    window, clip = opened
    ctl = window.editor.controller
    first_id = ctl.origin.library_id
    select(window, 0.0, 0.5)
    window.editor.actions.by_key["edit.delete"].trigger()
    other = tmp_path / "other.wav"
    sf.write(str(other), np.zeros((4000, 1), np.float32) + 0.1, 8000)
    window.editor.import_paths([other])  # the first clip's edits are closed away, not saved
    rows = {item.id: window.library_panel.list.item(i).text()
            for i, item in enumerate(window.library_panel.items())}
    assert "unsaved edits" in rows[first_id], rows
    assert "unsaved edits" not in rows[ctl.origin.library_id]

    later = make_window()  # a start (the same data folder) says which clips have unsaved edits
    qtbot.waitUntil(lambda: "unsaved edits" in later.statusBar().currentMessage()
                    or "unsaved edits" in later.message_area.text(), timeout=3000)

    select(window, 0.0, 0.1)
    window.editor.actions.by_key["edit.silence"].trigger()  # the clip on screen has edits too
    seen = answer_next_dialog(qtbot, "Save all as new versions")
    assert window.close()
    assert "two tones" in seen["text"] and "other" in seen["text"], seen
    versions = [i for i in window.library.search() if i.settings.get("derived_from")]
    assert len(versions) == 2, [i.title for i in window.library.search()]
    from core.editing import unsaved_sessions

    assert unsaved_sessions() == []


def test_the_view_fits_a_new_length_and_keeps_a_zoom_that_still_fits(opened):
    window, clip = opened
    ctl, view = window.editor.controller, window.waveform
    select(window, 0.5, 1.5)
    window.editor.actions.by_key["edit.trim"].trigger()  # 1 s left, shown whole
    assert view.view_range() == pytest.approx((0.0, 1.0), abs=1e-3)
    ctl.undo()  # the 2 s clip again: all of it shows, not the first second
    assert view.view_range() == pytest.approx((0.0, 2.0), abs=1e-3)
    window.editor.actions.by_key["edit.select_all"].trigger()
    window.editor.actions.by_key["edit.copy"].trigger()
    window.editor.cursor_to(2.0)
    window.editor.actions.by_key["edit.paste"].trigger()  # 4 s: the new part is on screen
    assert view.view_range() == pytest.approx((0.0, 4.0), abs=1e-3)
    view.set_view(0.5, 1.0)  # the user's zoom still fits after the next edit: kept
    select(window, 0.6, 0.7)
    window.editor.actions.by_key["edit.delete"].trigger()
    assert view.view_range() == pytest.approx((0.5, 1.0), abs=1e-3)
