"""The window as three kinds of users met it (issue 21): fields that keep their values while the panel scrolls,
and the other small things a sound designer, a musician and a podcaster tripped over."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QScrollArea


def wheel(widget, steps=-3):
    """Turn the mouse wheel over `widget` (negative: towards the user, scrolls down / lowers a value)."""
    target = widget
    local = QPointF(widget.width() / 2, widget.height() / 2)
    for _ in range(abs(steps)):
        event = QWheelEvent(local, QPointF(target.mapToGlobal(local.toPoint())), QPoint(0, 0),
                            QPoint(0, 120 if steps > 0 else -120), Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(target, event)


def test_the_wheel_over_the_settings_panel_scrolls_it_and_leaves_unfocused_fields_alone(qtbot, make_window):
    window = make_window()
    window.resize(1024, 640)
    qtbot.waitExposed(window)
    panel = window.generation_panel
    panel.set_mode("speech")  # the mode with the tallest settings: the panel scrolls at 1024x640
    scroll = next(s for s in window.findChildren(QScrollArea) if s.widget() is panel)
    window.setFocus()
    guidance, candidates = panel.guidance_spin, panel.candidates_spin
    guidance.setValue(5.0)
    candidates.setValue(2)
    bar = scroll.verticalScrollBar()
    before = bar.value()
    wheel(guidance)
    wheel(candidates)
    assert guidance.value() == 5.0 and candidates.value() == 2, "an unfocused field took the wheel"
    assert bar.maximum() > 0 and bar.value() > before, "the panel did not scroll on"
    guidance.setFocus()
    qtbot.waitUntil(guidance.hasFocus, timeout=2000)
    wheel(guidance, steps=-2)  # a focused field still takes the wheel
    assert guidance.value() == pytest.approx(4.0)


def test_a_finished_job_lands_as_cards_and_the_clip_being_edited_stays_open(qtbot, tiny_window):
    from studio_helpers import fill_panel, tone_clip

    from studio.shell.clip_entry import ClipEntry

    window = tiny_window
    edited = ClipEntry(tone_clip(330.0, seconds=2.0), prompt="my loop", mode="sound", model="m", licence="l")
    window.show_entry(edited)
    window.waveform.set_selection(0.2, 0.4)
    window.editor.actions.by_key["edit.silence"].trigger()  # the clip has an edit in progress
    ctl = window.editor.controller
    assert ctl.has_unsaved_edits
    fill_panel(window, "rain on a tin roof", seconds=1.0, steps=2, candidates=2, seed=3)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=180_000):
        window.generation_panel.generate_button.click()
    assert len(window.candidates.cards) == 2  # the takes are there, as cards
    assert ctl.origin is edited and ctl.has_unsaved_edits and window.waveform.duration == pytest.approx(2.0)
    assert "click a card" in window.statusBar().currentMessage() + window.message_area.text()
    qtbot.mouseClick(window.candidates.cards[1], Qt.MouseButton.LeftButton)  # the user opens a take
    assert ctl.origin is window.candidates.cards[1].entry and window.waveform.duration == pytest.approx(1.0)
    ctl.close_clip()


def test_a_result_opens_in_an_empty_editor_but_never_replaces_a_clip_the_user_opened_even_unedited(
        qtbot, tiny_window, tmp_path):
    import soundfile as sf
    from studio_helpers import fill_panel, tone_clip

    window = tiny_window
    ctl = window.editor.controller

    def generate(seed):
        fill_panel(window, "rain on a tin roof", seconds=1.0, steps=2, candidates=2, seed=seed)
        with qtbot.waitSignal(window.jobs.job_finished, timeout=180_000):
            window.generation_panel.generate_button.click()

    assert ctl.origin is None
    generate(3)  # the very first generation, the editor empty: its best take opens there
    first = window.candidates.cards[0].entry
    assert ctl.origin is first and window.waveform.duration == pytest.approx(1.0)
    generate(4)  # the window put that take there and it was not touched: the next best take takes its place
    assert ctl.origin is window.candidates.cards[0].entry and ctl.origin is not first
    path = tmp_path / "my field recording.wav"
    tone = tone_clip(220.0, seconds=2.5)
    sf.write(path, tone.samples, tone.sample_rate)
    window.editor.import_paths([path])  # the user opens a file and only listens to it: no edit
    opened = ctl.origin
    assert opened is not None and ctl.session is None and window.waveform.duration == pytest.approx(2.5)
    generate(5)
    assert len(window.candidates.cards) == 2 and all(card.entry is not opened for card in window.candidates.cards)
    assert ctl.origin is opened and window.waveform.duration == pytest.approx(2.5), "a result replaced the user's clip"
    assert "click a card" in window.statusBar().currentMessage() + window.message_area.text()
    qtbot.mouseClick(window.candidates.cards[0], Qt.MouseButton.LeftButton)  # the user opens a take
    assert ctl.origin is window.candidates.cards[0].entry and window.waveform.duration == pytest.approx(1.0)
    generate(6)  # a take the user opened stays too
    assert ctl.origin is not window.candidates.cards[0].entry and window.waveform.duration == pytest.approx(1.0)


@pytest.mark.parametrize("size", [(1024, 640), (1590, 1000)])
def test_all_sixteen_pads_show_whole_in_the_pads_dock_even_with_a_long_status(qtbot, make_window, size, monkeypatch):
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QDockWidget

    monkeypatch.setenv("JACK_DEFAULT_SERVER", "loa-no-such-server")
    window = make_window()
    window.resize(*size)
    dock = window.findChild(QDockWidget, "padsDock")
    dock.raise_()
    window.midi.status_label.setText("MIDI: listening on 'a very long input port name from a USB keyboard "
                                     "controller with many words' (channel omni), clock follows the DAW")
    qtbot.waitUntil(dock.isVisible, timeout=2000)
    from studio_helpers import settled

    scroll = dock.widget()

    def viewport():
        return QRect(scroll.viewport().mapToGlobal(QPoint(0, 0)), scroll.viewport().size())

    settled(qtbot, lambda: all(viewport().contains(QRect(b.mapToGlobal(QPoint(0, 0)), b.size()))
                               for b in window.midi.pads.buttons))  # the layout has settled
    view = viewport()
    for button in window.midi.pads.buttons:
        rect = QRect(button.mapToGlobal(QPoint(0, 0)), button.size())
        assert view.contains(rect), f"{button.objectName()} is cut off at {size}: {rect} outside {view}"
    assert not scroll.horizontalScrollBar().isVisible()
    if size[0] >= 1500:  # the dock is resizable (a wide window has the room)
        width = dock.width()
        window.resizeDocks([dock], [width + 80], Qt.Orientation.Horizontal)
        qtbot.waitUntil(lambda: dock.width() > width, timeout=5000)


@pytest.mark.parametrize("size", [(1024, 640), (1600, 1000)])
def test_a_pad_with_a_long_take_name_keeps_the_four_columns_even_and_its_words_whole_or_elided(
        qtbot, make_window, size, monkeypatch, tmp_path):
    """A pad given "lofi drum loop" grew wider than its neighbours (the columns follow the text's width)."""
    import soundfile as sf
    from PySide6.QtWidgets import QDockWidget
    from studio_helpers import tone_clip

    monkeypatch.setenv("JACK_DEFAULT_SERVER", "loa-no-such-server")
    window = make_window()
    window.resize(*size)
    dock = window.findChild(QDockWidget, "padsDock")
    dock.raise_()
    qtbot.waitUntil(dock.isVisible, timeout=2000)
    tone = tone_clip(seconds=0.3)
    grid = window.midi.pads
    for pad, name in [(0, "metal door slam in a large hall with a long tail"), (5, "lofi drum loop")]:
        path = tmp_path / f"{name}.wav"
        sf.write(path, tone.samples, tone.sample_rate)
        assert grid.assign_file(pad, path)
    from studio_helpers import settled

    buttons = grid.buttons
    settled(qtbot, lambda: all(max(ws) - min(ws) <= 2 for ws in
                               ([b.width() for b in buttons[4 * r: 4 * r + 4]] for r in range(4))))
    for row in range(4):
        widths = [b.width() for b in buttons[4 * row: 4 * row + 4]]
        assert max(widths) - min(widths) <= 2, f"row {row + 1} pads differ in width at {size}: {widths}"
    for button in buttons:
        metrics = button.fontMetrics()
        for line in button.text().split("\n"):
            assert metrics.horizontalAdvance(line) <= button.width() - 6, (button.objectName(), line, button.width())
    assert "metal door slam in a large hall with a long tail" in buttons[0].toolTip()
    assert buttons[0].text().split("\n")[1].startswith("metal")


def drawn_rows(pixmap) -> int:
    """How many pixel rows of a thumbnail hold the waveform's colour."""
    image = pixmap.toImage()
    rows = 0
    for y in range(image.height()):
        if any(image.pixelColor(x, y).name() == "#5fb3f0" for x in range(0, image.width(), 2)):
            rows += 1
    return rows


def test_card_thumbnails_show_true_level_as_the_editor_does_and_fit_says_so(qtbot, make_window):
    import numpy as np

    from core.audio.clip import Clip
    from studio.shell.clip_entry import ClipEntry

    rate = 16_000
    t = np.arange(rate) / rate
    quiet = Clip((10 ** (-33 / 20) * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)  # a -33 dBFS take
    loud = Clip((0.9 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)
    window = make_window()
    takes = [ClipEntry(clip, prompt=name, mode="sound", model="m", licence="l", seed=1, score=0.5)
             for name, clip in (("quiet", quiet), ("loud", loud))]
    window.candidates.show_entries(takes)
    quiet_card, loud_card = window.candidates.cards
    height = quiet_card.thumbnail.pixmap().height()
    assert drawn_rows(quiet_card.thumbnail.pixmap()) <= 3, "a -33 dBFS take filled its thumbnail"
    assert drawn_rows(loud_card.thumbnail.pixmap()) >= 0.8 * height
    assert "peak -33 dBFS" in quiet_card.info.text()
    window.fit_levels_action.setChecked(True)  # the optional fit, which the card says
    assert drawn_rows(quiet_card.thumbnail.pixmap()) >= 0.8 * height
    assert "fit to peak -33 dBFS" in quiet_card.info.text()

    axis = window.waveform.plot.getPlotItem().getAxis("left")  # the editor carries a dB scale
    window.show_entry(takes[0])
    assert axis.isVisible()
    labels = [text for _y, text in axis.marks()]
    assert "0" in labels and "-6" in labels and "-∞" in labels
    window.waveform.set_amplitude_zoom(8.0)  # zoomed: the marks follow (0 dB is off the lane)
    assert "0" not in [text for _y, text in axis.marks()] and "-24" in [text for _y, text in axis.marks()]


def test_the_recording_meter_carries_a_db_scale(qtbot):
    from PySide6.QtGui import QColor, QImage

    from studio.recording.meter_widget import LevelMeterWidget

    meter = LevelMeterWidget()
    qtbot.addWidget(meter)
    meter.resize(300, meter.sizeHint().height())
    meter.show()
    labels = [text for _x, text in meter.scale_marks()]
    assert labels[-1] == "0" and labels[0] == "-60" and "-12" in labels
    image = QImage(meter.size(), QImage.Format.Format_ARGB32)
    image.fill(QColor("black"))
    meter.render(image)
    strip = int(meter.bar_rect().bottom()) + 2
    lit = sum(image.pixelColor(x, y).lightness() > 80 for x in range(image.width())
              for y in range(strip, image.height()))
    assert lit > 20, "nothing is written under the bars"


def test_pressing_a_card_to_drag_it_out_does_not_play_it_and_a_click_does(qtbot):
    from studio_helpers import tone_clip

    from studio.generate.candidates import CandidatesView
    from studio.shell.clip_entry import ClipEntry

    view = CandidatesView()
    qtbot.addWidget(view)
    view.resize(700, 400)
    view.show()
    dragged, auditioned = [], []
    view.set_drag_handler(lambda entry, widget: dragged.append(entry))
    view.audition_requested.connect(auditioned.append)
    takes = [ClipEntry(tone_clip(), prompt=f"take {i}", mode="sound", model="m", licence="l", seed=i)
             for i in range(2)]
    view.show_entries(takes)
    card = view.cards[1]
    start = card.rect().center()
    qtbot.mousePress(card, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(card, start + QPoint(8 * step, 0))
    qtbot.mouseRelease(card, Qt.MouseButton.LeftButton, pos=start + QPoint(40, 0))
    assert dragged == [takes[1]] and auditioned == [], "pressing to drag played the take"
    qtbot.mouseClick(card, Qt.MouseButton.LeftButton, pos=start)
    assert auditioned == [takes[1]] and view.current() is takes[1]


def test_shown_cards_are_saved_as_they_change_so_a_crash_loses_none(qtbot, make_window, settings):
    import numpy as np
    from studio_helpers import tone_clip

    from studio.shell.clip_entry import ClipEntry

    settings.store_all_generations = False  # takes only in memory: the session folder is all there is
    window = make_window()
    takes = [ClipEntry(tone_clip(220.0 * (i + 1)), prompt=f"take {i}", mode="sound", model="m", licence="l", seed=i)
             for i in range(3)]
    window.candidates.show_entries(takes)
    from studio.library.session import load_shown_takes

    # no close, no quit: as if the process were killed as soon as the save has landed
    qtbot.waitUntil(lambda: [e.prompt for e in load_shown_takes(window.library)] == ["take 0", "take 1", "take 2"],
                    timeout=10_000)
    after_crash = make_window()
    restored = [card.entry for card in after_crash.candidates.cards]
    assert [e.prompt for e in restored] == ["take 0", "take 1", "take 2"]
    np.testing.assert_allclose(restored[2].clip.samples, takes[2].clip.samples, atol=1e-6)
    window.candidates.cards[1].keep_button.click()  # a change after the first save is saved too
    qtbot.waitUntil(lambda: [e.kept for e in load_shown_takes(window.library)] == [False, True, False],
                    timeout=10_000)
    again = make_window()
    assert [c.entry.kept for c in again.candidates.cards] == [False, True, False]


def test_an_error_banner_clears_when_a_later_action_succeeds_or_after_a_while_and_stays_in_the_history(
        qtbot, make_window):
    import time

    from studio.shell.message_log import SETTLE_SECONDS

    window = make_window()
    banner = window.error_banner
    window.show_error("Could not export: the folder is read-only.")
    assert banner.isVisibleTo(window)
    window.show_message("Note that belongs to the same action.")  # at once: still the same action, error stays
    assert banner.isVisibleTo(window)
    window.message_log._error_at = time.monotonic() - SETTLE_SECONDS - 1  # a later action...
    window.show_message("Exported “rain.wav”.")  # ...succeeds: the stale error goes
    assert not banner.isVisibleTo(window)
    window.message_log._clear.setInterval(100)
    window.show_error("Cannot play: no audio output.")
    qtbot.waitUntil(lambda: not banner.isVisibleTo(window), timeout=2000)  # or it clears after a while
    dialog = window.message_log.show_history()  # Help > Message history…
    text = dialog.findChild(QPlainTextEdit).toPlainText()
    assert "ERROR  Could not export: the folder is read-only." in text and "Exported “rain.wav”." in text
    assert text.index("Could not export") < text.index("Exported") < text.index("Cannot play")
    dialog.close()


def test_the_script_table_numbers_spoken_lines_not_file_lines(speech_window):
    box = speech_window.speech_tools.script
    box.editor.setPlainText("@voice host: a calm man\n[host] Hello there.\n@pause 1\nHow are you?\n\n[host] Bye.\n")
    assert box.check(quiet=True) is not None
    numbers = [box.table.item(row, 0).text().split()[0] for row in range(box.table.rowCount())]
    assert numbers == ["1", "2", "3"], numbers  # the third spoken line reads 3, not 6
    assert "line 6 of the script" in box.table.item(2, 0).toolTip()


def test_an_unreadable_file_says_so_in_one_plain_line_naming_the_formats_that_open(qtbot, make_window, tmp_path):
    import soundfile as sf

    window = make_window()
    bad = tmp_path / "notes.wav"
    bad.write_bytes(b"this is not audio at all" * 10)
    window.editor.import_paths([bad])
    text = window.error_banner.text()
    assert text.startswith("Cannot read notes.wav as audio") and "\n" not in text
    for raw in ("Error opening", "Format not recognised", "libsndfile", "System error"):
        assert raw not in text, text  # no raw libsndfile text
    assert "WAV" in text and "FLAC" in text and "AIFF" in text
    assert ("MP3" in text) == ("MP3" in sf.available_formats()), text  # MP3 named exactly when it opens


def test_at_1024x640_with_the_script_dock_and_job_rows_the_waveform_keeps_150_px(qtbot, make_window):
    from studio_helpers import tone_clip

    from core.generation.requests import GenerationRequest
    from studio.jobs.job_queue import Job, JobSpec
    from studio.shell.clip_entry import ClipEntry

    window = make_window()
    window.resize(1024, 640)
    window.show_entry(ClipEntry(tone_clip(seconds=2.0), prompt="t", mode="sound", model="m", licence="l"))
    window.generation_panel.set_mode("speech")  # the Script dock comes up in the bottom area
    for number in range(5):
        job = Job(500 + number, JobSpec(mode="speech", model="m",
                                        request=GenerationRequest(prompt=f"line {number}", seconds=1.0, steps=2)))
        window.job_list._on_added(job)
    qtbot.waitUntil(lambda: window.waveform.height() >= 150 and window.candidates.height() >= 100, timeout=5000)
    assert (window.width(), window.height()) == (1024, 640)
    assert window.waveform.height() >= 150, f"the waveform got {window.waveform.height()} px"
    assert window.candidates.height() >= 100


def test_music_mode_sets_the_session_tempo_duration_follows_bars_and_one_rounding_everywhere(qtbot, make_window,
                                                                                            monkeypatch):
    from studio_helpers import tone_clip

    from studio.shell.clip_entry import ClipEntry

    monkeypatch.setenv("JACK_DEFAULT_SERVER", "loa-no-such-server")
    window = make_window()
    panel, midi = window.generation_panel, window.midi
    panel.set_mode("music")
    row = midi.bars_row
    row.bpm_spin.setValue(97.0)  # the tempo set in Music mode is the session tempo
    assert midi.controller.bpm == pytest.approx(97.0) and midi.tempo.bpm_spin.value() == pytest.approx(97.0)
    panel.seconds_spin.setValue(7.0)
    row.bars_spin.setValue(4)
    row.enabled_box.setChecked(True)  # Bars ticked: Duration is off and shows the bars' length
    assert not panel.seconds_spin.isEnabled()
    assert panel.seconds_spin.value() == pytest.approx(round(4 * 4 * 60 / 97, 2))
    row.enabled_box.setChecked(False)
    assert panel.seconds_spin.isEnabled() and panel.seconds_spin.value() == pytest.approx(7.0)

    midi.controller._set_tempo(127.95, "clock")  # a clock's estimate: every field shows one value
    assert midi.tempo.bpm_spin.text() == row.bpm_spin.text() == "128.0 BPM"
    row.enabled_box.setChecked(True)
    assert row.lock().bpm == pytest.approx(midi.tempo.bpm_spin.value())  # and the take is made at it
    assert "127.95" not in row.tempo_label.text()

    locked = ClipEntry(tone_clip(), prompt="loop", mode="music", model="m", licence="l", seed=1, score=0.4,
                       settings={"bar_locked": True, "bars": 4, "bpm": 97.0, "beats_per_bar": 4, "ending": "fade"})
    window.candidates.show_entries([locked])
    assert "4 bars · 97.0 BPM" in window.candidates.cards[0].info.text()  # cards say bars and tempo
    from studio.compact.window import TakeChip

    chip = TakeChip(locked, window)
    assert "4b" in chip.play_button.text() and "97.0 BPM" in chip.play_button.text()
    chip.deleteLater()


def test_the_recording_count_in_follows_the_one_session_tempo(qtbot, make_window, monkeypatch):
    """A musician set 97 BPM in Music mode and went to record over the loop: the count-in still read 120 BPM."""
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "loa-no-such-server")
    window = make_window()
    count_in = window.recording.panel.tempo_spin
    assert count_in.value() == pytest.approx(window.midi.controller.bpm)  # at start: the session tempo
    window.generation_panel.set_mode("music")
    window.midi.bars_row.bpm_spin.setValue(97.0)
    assert count_in.value() == pytest.approx(97.0)
    window.midi.tempo.bpm_spin.setValue(84.0)  # the Pads dock's field: the same session tempo
    assert count_in.value() == pytest.approx(84.0) and window.settings.count_in_tempo == pytest.approx(84.0)


def test_undo_is_offered_only_when_there_is_an_edit_or_a_library_delete_to_undo(qtbot, make_window):
    """A first start showed Undo enabled above an empty editor; pressing it had nothing to undo."""
    from studio_helpers import tone_clip

    from studio.shell.clip_entry import ClipEntry

    window = make_window()
    undo = window.editor.actions.by_key["edit.undo"]
    assert not undo.isEnabled()
    item = window.library.add(tone_clip(), prompt="door", mode="sound", model="m", licence="l", seed=1)
    window.library_panel.library_changed()
    assert window.library_panel.select_id(item.id)
    window.library_panel.delete_selected()
    assert undo.isEnabled()  # a library delete to undo
    undo.trigger()
    assert not window.library.get(item.id).trashed and not undo.isEnabled()
    window.show_entry(ClipEntry(tone_clip(seconds=1.0), prompt="tone", mode="sound", model="m", licence="l"))
    assert not undo.isEnabled()
    window.waveform.set_selection(0.1, 0.2)
    window.editor.actions.by_key["edit.silence"].trigger()
    assert undo.isEnabled()  # an edit to undo
    undo.trigger()
    assert not undo.isEnabled()
    window.editor.controller.close_clip()


@pytest.mark.parametrize("size", [(1024, 640), (1600, 1000)])
def test_cards_show_whole_in_the_centre_column_without_a_side_scroll(qtbot, make_window, size, tmp_path):
    """At 1024x640 a bar-locked take's card (its info line is the longest) was wider than the centre column: its
    Keep button sat behind a side scroll bar."""
    from studio_helpers import tone_clip

    from studio.shell.clip_entry import ClipEntry

    window = make_window()
    window.resize(*size)
    qtbot.waitExposed(window)
    settings = {"bar_locked": True, "bars": 4, "bpm": 97.0, "beats_per_bar": 4, "ending": "fade"}
    entries = [ClipEntry(tone_clip(220.0 * (n + 1), seconds=2.0), prompt="lofi drum loop", mode="music", model="m",
                         licence="l", seed=974497390 + n, score=0.34, settings=settings) for n in range(4)]
    window.candidates.show_entries(entries)
    from studio_helpers import steady

    view = window.candidates
    steady(qtbot, lambda: (view.horizontalScrollBar().isVisible(), [c.geometry() for c in view.cards]))
    window.grab().save(str(tmp_path / f"cards-{size[0]}.png"))
    assert not view.horizontalScrollBar().isVisible(), "the cards scroll sideways"
    for card in view.cards:
        assert card.info.text().count("97.0 BPM") == 1
        right = card.mapTo(view.viewport(), card.rect().topRight()).x()
        assert right <= view.viewport().width(), (right, view.viewport().width())
        assert card.keep_button.isVisible() and card.keep_button.width() >= card.keep_button.sizeHint().width()
    if size[0] >= 1600:
        assert view.columns >= 2


def test_file_dialogs_open_where_the_user_last_was_for_that_purpose(qtbot, make_window, tmp_path, monkeypatch):
    import numpy as np
    import soundfile as sf
    from PySide6.QtWidgets import QFileDialog

    audio_folder, script_folder = tmp_path / "sounds", tmp_path / "scripts"
    audio_folder.mkdir()
    script_folder.mkdir()
    take = audio_folder / "door.wav"
    sf.write(str(take), np.zeros(1600, np.float32), 16_000)
    asked = []

    def fake_open(parent, title, start, filters=""):  # the platform dialog: what it was asked to open at
        asked.append((title, start))
        return ([str(take)], "") if title == "Open audio" else ("", "")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(fake_open))
    window = make_window()
    window.editor.open_files_dialog()
    window.editor.open_files_dialog()
    assert asked[0][1] == str(__import__("pathlib").Path.home()) and asked[1][1] == str(audio_folder)
    window.close()
    later = make_window()  # remembered across restarts
    later.editor.open_files_dialog()
    assert asked[2][1] == str(audio_folder)

    from studio.shell.file_dialogs import last_folder, remember

    remember("script", script_folder / "episode.txt")
    assert last_folder("script") == str(script_folder) and last_folder("audio") == str(audio_folder)


def test_export_offers_to_create_a_missing_folder(qtbot, make_window, tmp_path, exports):
    import soundfile as sf
    from studio_helpers import run_export_dialog, tone_clip

    from studio.shell.clip_entry import ClipEntry

    window = make_window()
    window.show_entry(ClipEntry(tone_clip(), prompt="door", mode="sound", model="m", licence="l", seed=1))
    missing = tmp_path / "new" / "exports"
    questions = []

    def answer_yes(*args):
        questions.append(args[2])
        return QMessageBox.StandardButton.Yes
    from PySide6.QtWidgets import QMessageBox

    monkeypatch_question = QMessageBox.question
    QMessageBox.question = staticmethod(answer_yes)
    try:
        def export_into_missing(dialog):
            dialog.folder_edit.setText(str(missing))
            dialog.export_button.click()
        run_export_dialog(export_into_missing)
        path = window.export_selected()
    finally:
        QMessageBox.question = monkeypatch_question
    assert questions and "does not exist. Create it?" in questions[0]
    assert path is not None and path.parent == missing and sf.info(str(path)).frames > 0


def test_library_finds_versions_says_no_matches_marks_kept_and_undo_delete_forgets_restored_items(qtbot,
                                                                                                  make_window):
    from studio_helpers import tone_clip

    from core.library.store import Library

    library = Library()
    original = library.add(tone_clip(), prompt="door slam", mode="sound", model="m", licence="l", seed=1, kept=True)
    version = library.add_version(original.id, tone_clip(330.0), [{"op": "reverse", "label": "Reverse"}])
    other = library.add(tone_clip(), prompt="rain", mode="sound", model="m", licence="l", seed=2)
    window = make_window(library=library)
    panel = window.library_panel
    panel.search_edit.setText("version")
    qtbot.waitUntil(lambda: [i.id for i in panel.items()] == [version.id], timeout=3000)
    panel.search_edit.setText("violin")
    qtbot.waitUntil(lambda: panel.list.count() == 0, timeout=3000)
    assert panel.empty_label.isVisibleTo(panel) and "No matches" in panel.empty_label.text()
    panel.search_edit.setText("")
    qtbot.waitUntil(lambda: panel.list.count() == 3, timeout=3000)
    assert not panel.empty_label.isVisibleTo(panel)
    rows = {item.id: panel.list.item(i).text() for i, item in enumerate(panel.items())}
    assert "· kept" in rows[original.id] and "not kept" in rows[other.id]

    panel.select_id(other.id)
    panel.delete_selected()
    assert panel.undo_button.isEnabled()
    panel.trash_toggle.setChecked(True)
    panel.select_id(other.id)
    panel.restore_selected()  # restored from the trash view: nothing is left for Undo delete
    assert not panel.undo_button.isEnabled() and not panel.undo_delete()
    panel.trash_toggle.setChecked(False)
    assert not library.get(other.id).trashed


@pytest.mark.parametrize("size", [(1024, 640), (1600, 1000)])
def test_the_first_run_note_lists_every_checkpoint_with_what_it_is_for_and_its_size(qtbot, make_window, size):
    from core.models.catalog import CATALOG, describe_size

    window = make_window()
    window.resize(*size)
    qtbot.wait(100)
    text = window.first_run_text.text()
    for info in CATALOG.values():
        assert info.id in text and describe_size(info.download_bytes) in text, info.id
    assert "sound effects and general audio" in text and "text-to-music" in text and "one voice" in text
    assert (window.width(), window.height()) == size and window.first_run_text.isVisible()
    assert window.waveform.height() >= 150
