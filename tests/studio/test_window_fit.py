"""The window as a first-time user meets it at 1024x640: readouts shown whole, settings without a side scroll in
every mode, docks that give their height back, nothing that widens the window as the user works (issue 9)."""

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QScrollArea
from studio_helpers import settled, steady, tone_clip

from studio.shell.clip_entry import ClipEntry


def global_rect(widget) -> QRect:
    return QRect(widget.mapToGlobal(QPoint(0, 0)), widget.size())


def shows_whole(label: QLabel) -> bool:
    """The label's text fits its width: nothing of it is cut off."""
    return label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()


def entry(seconds=2.0):
    return ClipEntry(tone_clip(330.0, seconds=seconds), prompt="door slam", mode="sound", model="m", licence="l",
                     seed=7)


@pytest.mark.parametrize("size", [(1024, 640), (1600, 1000)])
def test_the_editor_readouts_show_start_end_and_length_whole(qtbot, make_window, size):
    window = make_window()
    window.resize(*size)
    window.show_entry(entry())
    window.waveform.set_selection(0.2, 0.6)
    window.transport.set_tempo(120.0)
    assert steady(qtbot, lambda: (window.width(), window.height())) == size, "a selection or a tempo widened the window"
    assert window.minimumSizeHint().width() <= 1024
    bar = window.transport
    for label in (bar.position_label, bar.selection_label):
        assert label.isVisibleTo(window) and not label.visibleRegion().isEmpty()
        assert global_rect(window).contains(global_rect(label)), f"{label.objectName()} is outside the window"
        assert shows_whole(label), f"{label.objectName()} is cut: {label.text()!r} in {label.width()} px"
    shown = bar.selection_label.text()
    assert "0.200" in shown and "0.600" in shown and "0.400" in shown, shown  # start, end, length
    assert "; bars 1.1.40 – 1.2." in bar.selection_label.toolTip()  # the full wording, tempo included
    assert bar.position_label.text().startswith("0.200 s")
    if size[0] >= 1600:  # room enough: beside the buttons, in full, bars included
        assert not bar.readouts_on_own_row
        assert bar.selection_label.text() == bar.selection_label.full_text() and "bars" in shown
    bar.show_selection(None)
    assert bar.selection_label.text() == "No selection" and shows_whole(bar.selection_label)


def test_readouts_choose_a_shorter_wording_never_a_cut_one(qtbot):
    from studio.editor.transport import TransportBar

    bar = TransportBar()
    qtbot.addWidget(bar)
    least = bar.minimumSizeHint().width()
    bar.set_tempo(120.0)
    bar.show_selection((0.5, 1.5))
    bar.show()
    wordings = []
    for width in (900, 600, 420, 300, 240):
        bar.resize(width, 60)
        label = bar.selection_label
        assert settled(qtbot, lambda: shows_whole(label)), (width, label.text(), label.width())
        assert "0.500" in label.text() and "1.500" in label.text() and "1.000 s" in label.text()
        wordings.append(label.text())
    assert wordings[0] == "0.500 s – 1.500 s (1.000 s) · bars 1.2.00 – 1.4.00 (0:2)"
    assert wordings[-1] == "0.500–1.500 s (1.000 s)"
    assert bar.readouts_on_own_row  # narrow: under the buttons
    assert bar.minimumSizeHint().width() == least  # a selection or a tempo never widens the window


def long_named_reference(corpus_files, tmp_path):
    """A real recording of speech under a long file name, as recorders name them."""
    import shutil

    source = next(p for p in corpus_files if p.name == "speech_front_center_48k_mono.wav")
    target = tmp_path / "interview_with_our_guest_recorded_on_location_in_the_old_town_take_12.wav"
    shutil.copy(source, target)
    return target


@pytest.mark.parametrize("size", [(1024, 640), (1100, 700)])
def test_every_mode_fits_the_settings_column_without_a_side_scroll(qtbot, make_window, corpus_files, tmp_path,
                                                                   size):
    window = make_window()
    window.resize(*size)
    panel = window.generation_panel
    scroll = window.centralWidget().widget(0).findChild(QScrollArea)
    for mode in [m.name for m in panel.modes]:
        panel.set_mode(mode)
        if mode == "speech":
            assert window.speech_tools.reference.set_reference_file(long_named_reference(corpus_files, tmp_path))
        side_scroll = steady(qtbot, scroll.horizontalScrollBar().isVisible)  # fitted after the rows are shown
        assert not side_scroll, (
            f"{mode} needs a side scroll at {size}: its fields want {panel.minimumSizeHint().width()} px, "
            f"the column shows {scroll.viewport().width()}")
        for field in (panel.prompt_edit, panel.transcription_edit, panel.source_edit, panel.negative_edit,
                      panel.model_combo):
            if field.isVisibleTo(window):
                assert field.width() >= 130, f"{field.objectName()} is squeezed to {field.width()} px in {mode}"
    assert window.width() == size[0]


def bottom_height(window):
    return max(d.height() for d in window.findChildren(QDockWidget) if d.isVisible() and not d.isFloating()
               and window.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea)


def test_the_bottom_docks_give_the_height_back_after_the_script_dock(qtbot, make_window):
    window = make_window()
    window.resize(1024, 640)
    panel = window.generation_panel
    panel.set_mode("sound")
    before = steady(qtbot, lambda: bottom_height(window))
    cards = window.candidates.height()
    panel.set_mode("speech")
    qtbot.waitUntil(lambda: window.speech_tools.dock.isVisible() and bottom_height(window) >= 150)
    window.resizeDocks([window.speech_tools.dock], [120], Qt.Orientation.Vertical)  # the user drags it lower
    assert settled(qtbot, lambda: window.speech_tools.dock.height() < 140), window.speech_tools.dock.height()
    chosen = window.speech_tools.dock.height()
    panel.set_mode("sound")
    qtbot.waitUntil(lambda: abs(bottom_height(window) - before) <= 4, timeout=2000)
    qtbot.waitUntil(lambda: abs(window.candidates.height() - cards) <= 4, timeout=2000)  # the cards get it back
    panel.set_mode("speech")  # back at the height the user gave it
    qtbot.waitUntil(lambda: abs(window.speech_tools.dock.height() - chosen) <= 4, timeout=2000)
    window.speech_tools.dock.close()  # its own close button gives the height back too
    qtbot.waitUntil(lambda: abs(bottom_height(window) - before) <= 4, timeout=2000)


def test_the_batch_dialog_shows_every_bad_row_whole(qtbot, make_window, tmp_path):
    from studio.export.batch_render import BatchRenderDialog

    window = make_window()
    window.resize(1024, 640)
    jobs = tmp_path / ("sound_effects_for_the_second_episode_of_the_podcast_" * 2 + ".csv")
    jobs.write_text("prompt,seconds,count,model\nrain on a tin roof,1,1,/no/such/folder/of/models\n,1,1,\n"
                    "wind,200,1,\n")
    dialog = BatchRenderDialog(jobs, window.jobs.engines, window.library, parent=window)
    dialog.show()
    qtbot.addWidget(dialog)
    assert settled(qtbot, lambda: dialog.errors.count() == 3), [dialog.errors.item(r).text()
                                                                 for r in range(dialog.errors.count())]
    assert dialog.width() <= 1024
    view = dialog.errors.viewport()
    for row in range(dialog.errors.count()):
        item = dialog.errors.item(row)
        shown = dialog.errors.visualItemRect(item)
        needed = dialog.errors.fontMetrics().boundingRect(QRect(0, 0, view.width() - 8, 10_000),
                                                         Qt.TextFlag.TextWordWrap, item.text())
        assert shown.right() <= view.width() and needed.height() <= shown.height() + 2, (
            f"row {row} is cut: needs {needed.size()} in {shown.size()}: {item.text()!r}")
        assert item.toolTip().startswith("line ")
    assert shows_whole(dialog.folder) or dialog.folder.wordWrap()
    assert dialog.folder.width() <= dialog.width()
    texts = [dialog.errors.item(row).text() for row in range(dialog.errors.count())]
    assert not any("loa models" in t or "--model" in t for t in texts), texts  # the window's words, not the CLI's
    assert any("Models…" in t for t in texts), texts


def test_a_long_prompt_shows_its_beginning_when_a_mode_is_shown(qtbot, make_window):
    window = make_window()
    window.resize(1024, 640)
    panel = window.generation_panel
    panel.set_mode("music")
    panel.prompt_edit.setText("slow ambient pads with a warm analog bass line and soft vinyl crackle, 80 BPM")
    panel.set_mode("sound")
    panel.set_mode("music")
    assert settled(qtbot, lambda: panel.prompt_edit.cursorPosition() == 0), panel.prompt_edit.cursorPosition()
    assert settled(qtbot, lambda: panel.prompt_edit.cursorRect().left() < 10)  # the first words in view


def test_the_trash_view_and_back_keep_the_window_and_the_library_dock_as_they_were(qtbot, make_window):
    from core.library.store import Library

    library = Library()
    for seed in range(3):
        library.add(tone_clip(), prompt="metal door slam in a large hall", mode="sound", model="m", licence="l",
                    seed=seed, kept=True)
    window = make_window(library=library)
    window.resize(1024, 640)
    dock = steady(qtbot, window.library_dock.width)  # the docks' first layout, once it has settled
    panel = window.library_panel
    for trash in (True, False, True, False):
        panel.trash_toggle.setChecked(trash)
        width, dock_width = steady(qtbot, lambda: (window.width(), window.library_dock.width()))
        assert width == 1024, f"the window widened to {width} (trash view {trash})"
        assert dock_width == dock
        shown = [b for b in (panel.restore_button, panel.purge_button, panel.delete_button, panel.play_button)
                 if b.isVisibleTo(window)]
        assert all(global_rect(window.library_dock).contains(global_rect(b)) for b in shown)


@pytest.mark.parametrize("size", [(1024, 640), (1600, 1000)])
def test_a_job_rows_progress_text_is_shown_whole(qtbot, make_window, size):
    from core.generation.progress import Progress
    from core.generation.requests import GenerationRequest
    from studio.jobs.job_queue import Job, JobSpec

    window = make_window()
    window.resize(*size)
    request = GenerationRequest(prompt="rain on a tin roof with thunder far away", seconds=3.0, steps=60,
                                candidates=2)
    job = Job(41, JobSpec(mode="sound", model="m", request=request))
    window.job_list._on_added(job)
    row = window.job_list.rows[41]
    row.start()
    row.show_progress(Progress("denoising", 12, 60))
    bar = row.bar
    # The new row is laid out by the event loop: until then its widgets keep Qt's default geometry (640 px wide),
    # which would let any text "fit". Wait for the laid-out row (its Cancel inside the window); the bar picks its
    # wording again at its real width, so read the text after that.
    in_window = settled(qtbot, lambda: global_rect(window).contains(global_rect(row.cancel_button)), timeout=5000)
    fits = settled(qtbot, lambda: bar.fontMetrics().horizontalAdvance(bar.format()) <= bar.width() - 12)
    text = bar.format()
    assert fits, f"{text!r} is cut in {bar.width()} px"
    assert "12" in text and "60" in text
    assert bar.toolTip() == "denoising: step 12 of 60"
    if size[0] >= 1600:
        assert text == "denoising: step 12 of 60"
    assert in_window, f"the row's Cancel at {global_rect(row.cancel_button)} is outside the window"


LONG_PATH = "/home/someone/Music/projects/" + "a_very_long_folder_name_without_spaces_" * 4 + "take.wav"


def test_a_message_with_a_long_path_wraps_instead_of_widening_the_window(qtbot, make_window):
    window = make_window()
    window.resize(1024, 640)
    window.show_error(f"Cannot export {LONG_PATH}: the disk is full.")
    assert steady(qtbot, window.width) == 1024 and window.minimumSizeHint().width() <= 1024
    assert window.error_banner.text() == f"Cannot export {LONG_PATH}: the disk is full."  # as said, wrapped
    assert window.error_banner.height() > 2 * window.error_banner.fontMetrics().height()
    window.show_message(f"Exported {LONG_PATH}. Licence: unknown — check the model card before using the audio.")
    assert steady(qtbot, window.width) == 1024 and window.message_area.isVisibleTo(window)
    manager = window.open_model_manager()
    manager._say(f"Added {LONG_PATH}; it is now selected for the modes it serves.")
    assert steady(qtbot, manager.width) <= 1024


def test_a_long_local_model_folder_does_not_make_the_settings_scroll_sideways(qtbot, make_window, settings):
    folder = LONG_PATH.rsplit("/", 1)[0] + "/audioldm2_checkpoint_copied_from_the_studio_machine"
    settings.local_models = [folder]  # a folder the user added once; it has gone since
    window = make_window()
    window.resize(1024, 640)
    window.generation_panel.set_model(folder)
    assert settled(qtbot, lambda: "not installed" in window.generation_panel.model_note.text())
    scroll = window.centralWidget().widget(0).findChild(QScrollArea)
    assert not scroll.horizontalScrollBar().isVisible()
    assert window.width() == 1024


def test_the_advice_to_re_scan_devices_names_a_control_that_does_it(qtbot, make_window):
    window = make_window()
    window.resize(1024, 640)
    qtbot.wait(50)
    assert window.rescan_action.text().replace("&", "") == "Re-scan audio devices"
    window.rescan_action.trigger()  # restarts PortAudio for real and counts what it finds
    said = window.statusBar().currentMessage()
    assert said.startswith("Audio devices re-scanned: ") and ".." not in said, said
    assert window.width() == 1024
    from studio.shell.gui_text import for_the_window

    advice = "No audio output device found; connect one or start a sound server (PulseAudio/PipeWire), then " \
             "re-scan devices."
    assert for_the_window(advice).endswith("then choose Settings > Re-scan audio devices.")


def test_the_recording_input_advice_is_shown_whole_at_1024x640(qtbot, make_window):
    window = make_window()
    window.resize(1024, 640)
    label = window.recording.panel.input_label
    window.recording.panel.set_input_text("No audio input device found; connect one or start a sound server "
                                          "(PulseAudio/PipeWire), then re-scan devices.")
    settled(qtbot, lambda: label.height() >= label.heightForWidth(label.width()))
    assert label.isVisibleTo(window) and label.height() >= label.heightForWidth(label.width()), (
        f"{label.height()} px shows less than the {label.heightForWidth(label.width())} px its lines need")
    assert global_rect(window).contains(global_rect(label))
    assert (window.width(), window.height()) == (1024, 640)


def test_k_keeps_the_selected_card_after_a_click_on_the_waveform(qtbot, make_window):
    from core.library.store import Library

    library = Library()
    window = make_window(library=library)
    window.resize(1024, 640)
    takes = [ClipEntry(tone_clip(220.0 * (i + 1)), prompt=f"glass shatter {i}", mode="sound", model="m",
                       licence="l", seed=i) for i in range(2)]
    window.candidates.show_entries(takes)
    window.candidates.select(1)
    window.waveform.setFocus()  # the user dragged a selection on the waveform, then presses K
    qtbot.wait(20)
    qtbot.keyClick(window.focusWidget() or window.waveform, Qt.Key.Key_K)
    assert takes[1].kept and library.count() == 1 and not takes[0].kept
    assert window.candidates.cards[1].keep_button.text() == "Kept"
    window.generation_panel.prompt_edit.setFocus()
    qtbot.keyClick(window.generation_panel.prompt_edit, Qt.Key.Key_K)  # typing a k in the prompt stays typing
    assert window.generation_panel.prompt_edit.text().endswith("k") and library.count() == 1


@pytest.mark.parametrize("size", [(1024, 640), (1600, 1000)])
def test_generate_is_in_view_in_every_mode_without_scrolling(qtbot, make_window, size):
    window = make_window()
    window.resize(*size)
    panel = window.generation_panel
    for mode in [m.name for m in panel.modes]:
        panel.set_mode(mode)
        button = panel.generate_button
        assert settled(qtbot, lambda: button.isVisibleTo(window)), mode
        assert settled(qtbot, lambda: button.visibleRegion().boundingRect().size() == button.size())
        assert button.visibleRegion().boundingRect().size() == button.size(), f"Generate is cut or hidden in {mode}"
        assert global_rect(window).contains(global_rect(button)), mode


def test_the_shortcuts_help_gives_each_key_one_meaning(make_window):
    from studio.shell.window_menus import shortcuts_help

    text = shortcuts_help(make_window())
    keys = [line.split(":")[0] for line in text.splitlines() if ":" in line and not line.endswith(":")]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    assert not repeated, f"the help says two things about {repeated}"
    assert "K: keep the selected card" in text and "Ctrl+T" in text


def test_many_jobs_scroll_instead_of_making_the_window_taller(qtbot, make_window):
    from core.generation.requests import GenerationRequest
    from studio.jobs.job_queue import Job, JobSpec

    window = make_window()
    window.resize(1024, 640)
    jobs = window.job_list
    empty_cards = steady(qtbot, lambda: window.candidates.height())
    for number in range(20):
        job = Job(300 + number, JobSpec(mode="sound", model="m",
                                        request=GenerationRequest(prompt=f"take {number}", seconds=1.0, steps=2)))
        jobs._on_added(job)
        if number < 12:
            jobs._done(job, "done")
    jobs.history_button.setChecked(True)  # twelve finished jobs shown, eight waiting
    assert steady(qtbot, lambda: (window.width(), window.height())) == (1024, 640)
    assert window.candidates.height() >= 100, "the job rows pushed the cards out of view"
    assert window.job_list_scroll.verticalScrollBar().maximum() > 0  # they scroll instead
    jobs.history_button.setChecked(False)
    for number in range(12, 20):
        jobs._done(jobs.rows[300 + number].job, "cancelled")
    assert settled(qtbot, lambda: window.candidates.height() >= empty_cards - 30), (  # the room comes back
        window.candidates.height(), empty_cards)


def export_rows_fit(dialog):
    """Every row at least its natural height (none squeezed) and every wrapped note at its height for the width
    (no gap around it); the dialog inside a 1024x640 screen."""
    squeezed = [w.objectName() for w in (dialog.name_edit, dialog.folder_edit, dialog.format_combo,
                                         dialog.depth_combo, dialog.rate_combo, dialog.channels_combo)
                if w.height() < w.sizeHint().height()]
    notes = [(label.objectName(), label.height(), label.heightForWidth(label.width()))
             for label in (dialog.recall_label, dialog.source_label, dialog.result_label) if label.isVisible()]
    wrong = [n for n in notes if not n[2] <= n[1] <= n[2] + 2]
    assert not squeezed and not wrong, f"squeezed rows {squeezed}; notes not at their height {wrong}"
    assert dialog.width() <= 1024 and dialog.height() <= 640


def test_the_export_dialog_grows_with_the_downmix_note_instead_of_squeezing_its_rows(qtbot, make_window, exports,
                                                                                    tmp_path):
    import numpy as np
    import soundfile as sf
    from studio_helpers import run_export_dialog

    film = tmp_path / "film mix.wav"
    sf.write(str(film), np.zeros((4_800, 6), np.float32), 48_000, subtype="PCM_24")  # 5.1
    window = make_window()
    window.resize(1024, 640)
    window.editor.import_paths([film])

    def choose(dialog):
        qtbot.waitUntil(lambda: export_rows_fit(dialog), timeout=5000)
        dialog.channels_combo.setCurrentIndex(dialog.channels_combo.findText("Stereo"))  # a longer note
        assert settled(qtbot, lambda: "downmixed to stereo" in dialog.result_label.text()), dialog.result_label.text()
        export_rows_fit(dialog)
        dialog.channels_combo.setCurrentIndex(0)  # and back: the dialog gives the height back
        qtbot.waitUntil(lambda: export_rows_fit(dialog), timeout=5000)
        dialog.reject()
        return True
    seen = run_export_dialog(choose)
    window.export_selected()
    assert seen["result"]


def test_the_export_dialog_shows_a_recalled_opus_note_without_gaps(qtbot, make_window, settings, exports,
                                                                   corpus_files):
    from studio_helpers import run_export_dialog

    from core.audio.formats.export import ExportSettings

    settings.remember_export(ExportSettings(container="opus", channels=2), exports)
    window = make_window()
    window.resize(1024, 640)
    window.editor.import_paths([next(p for p in corpus_files if p.name == "bell_44k_stereo.oga")])  # 44.1 kHz

    def look(dialog):
        assert settled(qtbot, lambda: dialog.recall_label.text().startswith("Opus cannot hold 44.1 kHz")), (
            dialog.recall_label.text())
        export_rows_fit(dialog)
        dialog.reject()
        return True
    seen = run_export_dialog(look)
    window.export_selected()
    assert seen["result"]


def test_the_script_export_asks_about_replacing_in_the_right_number():
    from studio.speech.script_box import _already_there

    assert _already_there(["script.wav"], "/out") == "script.wav already exists in /out. Replace it?"
    assert _already_there(["script.wav", "01-hi.wav", "02-bye.wav"], "/out") == (
        "3 files already exist in /out, e.g. script.wav. Replace them?")


def test_the_time_ruler_of_a_short_clip_counts_seconds_not_milliseconds_as_minutes(qtbot, make_window):
    window = make_window()
    window.resize(1024, 640)
    window.show_entry(entry(seconds=0.14))  # a bell hit: 0.14 s
    axis = window.waveform.plot.getAxis("bottom")
    assert settled(qtbot, lambda: window.waveform.plot.getViewBox().viewRange()[0][1] < 1.0)
    low, high = window.waveform.plot.getViewBox().viewRange()[0]
    assert high < 1.0
    (spacing, values), *_ = axis.tickValues(low, high, axis.width())
    shown = axis.tickStrings(values, axis.autoSIPrefixScale * axis.scale, spacing)
    assert shown and all(":" not in text and float(text) <= high for text in shown), shown
    assert "x0.001" not in axis.labelString(), axis.labelString()


def test_an_imported_file_reads_in_the_library_without_an_empty_model_field(qtbot, make_window, corpus_files):
    from core.library.store import Library

    library = Library()
    window = make_window(library=library)
    window.resize(1024, 640)
    window.editor.import_paths([next(p for p in corpus_files if p.name == "bell_44k_stereo.oga")])
    qtbot.waitUntil(lambda: window.library_panel.list.count() == 1, timeout=3000)
    shown = window.library_panel.list.item(0).text()
    details = shown.splitlines()[1]
    assert details.startswith("import · 20") and "·  ·" not in details, shown


def test_tab_goes_down_the_export_dialog_in_the_order_it_reads(qtbot, make_window, exports, corpus_files):
    from PySide6.QtWidgets import QApplication, QPushButton
    from studio_helpers import run_export_dialog

    window = make_window()
    window.resize(1024, 640)
    window.editor.import_paths([next(p for p in corpus_files if p.name == "bell_44k_stereo.oga")])

    def walk(dialog):
        qtbot.wait(20)
        dialog.name_edit.setFocus()
        order = []
        for _ in range(9):
            widget = QApplication.focusWidget()
            order.append(widget.text() if isinstance(widget, QPushButton) else widget.objectName())
            qtbot.keyClick(widget, Qt.Key.Key_Tab)
        dialog.reject()
        return order
    seen = run_export_dialog(walk)
    window.export_selected()
    assert seen["result"][:7] == ["exportFileName", "exportFolder", "Browse…", "exportFormat", "exportDepth",
                                  "exportRate", "exportChannels"], seen["result"]
    assert {text.replace("&", "") for text in seen["result"][7:]} == {"Export", "Cancel"}, seen["result"]


def test_opening_a_file_moves_the_library_highlight_to_it(qtbot, make_window, corpus_files):
    from core.library.store import Library
    from studio.library.library_panel import ITEM_ROLE

    window = make_window(library=Library())
    window.resize(1024, 640)
    panel = window.library_panel
    bell, speech = (next(p for p in corpus_files if p.name == name)
                    for name in ("bell_44k_stereo.oga", "speech_front_center_48k_mono.wav"))
    window.editor.import_paths([bell])
    panel.select_id(panel.items()[0].id)  # the user clicks the bell in the library
    assert panel.current_item().title == "bell_44k_stereo"
    (opened,) = window.editor.import_paths([speech])  # then opens another file
    assert window.selected_entry().library_id == opened.library_id
    assert panel.current_item() is not None and panel.current_item().id == opened.library_id, (
        "the library still highlights another item than the one shown and exported")
    assert [row.data(ITEM_ROLE).id for row in panel.list.selectedItems()] == [opened.library_id]


def test_a_long_edit_says_it_is_working_and_when_it_is_done(qtbot, make_window, tmp_path):
    """Edits of long clips run on a worker for seconds (Normalise loudness on 10 minutes: about 2 s); the walk
    showed nothing but greyed buttons meanwhile."""
    import numpy as np
    import soundfile as sf

    path = tmp_path / "six seconds.wav"
    sf.write(str(path), np.random.default_rng(3).uniform(-0.1, 0.1, (6 * 48_000, 2)).astype(np.float32), 48_000)
    window = make_window()
    window.resize(1024, 640)
    window.editor.import_paths([path])
    ctl = window.editor.controller
    said = []
    ctl.message.connect(said.append)
    window.editor.actions.by_key["edit.reverse"].trigger()
    assert said and said[0] == "Reverse: working on 6 s of audio…", said
    assert window.statusBar().currentMessage() == said[0]
    qtbot.waitUntil(lambda: not ctl.busy, timeout=10_000)
    assert said[-1] == "Reverse: done." and window.statusBar().currentMessage() == "Reverse: done."
    ctl.undo()
    assert said[-1] == "Undo: working on 6 s of audio…"
    qtbot.waitUntil(lambda: not ctl.busy, timeout=10_000)
    assert said[-1] == "Undid Reverse."  # the edit's own note replaces the working line
    ctl.discard_edits()


def test_restoring_one_edit_says_1_edit(qtbot, make_window):
    from core.editing import EditSession, Selection

    session = EditSession.create(tone_clip(330.0, seconds=1.0), name="door slam")
    session.apply("reverse", Selection(0, 4_000))
    session.abandon()  # as a crash leaves it
    window = make_window()
    window.resize(1024, 640)
    restored = window.editor.offer_restore(ask=False)
    assert restored is not None and restored.position == 1
    assert window.statusBar().currentMessage() == "Restored “door slam” with 1 edit; Undo goes back."
    window.editor.controller.discard_edits()
