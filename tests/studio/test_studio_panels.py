"""Panels without a model: candidate cards and keys, library panel, presets, first run, settings persistence,
audition with no audio device, and drag-out from library rows."""

import soundfile as sf
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from studio_helpers import tone_clip

from core.audio.clip import read_tags
from core.generation.presets import builtin_presets, user_presets
from core.library.store import Library
from studio.generate.candidates import CandidatesView, peak_envelope
from studio.shell.clip_entry import ClipEntry


def entries(n=4):
    return [ClipEntry(tone_clip(220.0 * (i + 1)), prompt=f"take {i}", mode="sound", model="m", licence="MIT",
                      seed=10 + i, score=0.5 - 0.1 * i, settings={"prompt": f"take {i}", "seed": 10 + i})
            for i in range(n)]


def add_items(library, specs):
    return [library.add(tone_clip(), prompt=p, mode=m, model=model, licence="CC-BY-NC-SA-4.0", seed=s, score=0.1,
                        settings={"prompt": p, "seconds": 0.5, "steps": 7, "guidance": 2.5, "seed": s})
            for p, m, model, s in specs]


def test_cards_show_score_and_seed_and_arrow_keys_and_space_drive_them(qtbot):
    view = CandidatesView()
    qtbot.addWidget(view)
    view.resize(700, 400)  # room for two columns
    view.show()
    selected, toggled, kept = [], [], []
    view.current_changed.connect(selected.append)
    view.play_toggled.connect(toggled.append)
    view.keep_requested.connect(kept.append)
    takes = entries(4)
    view.show_entries(takes)
    assert [c.objectName() for c in view.cards] == ["candidateCard"] * 4
    assert view.cards[0].info.text().startswith("score 0.500 · seed 10 · peak ") and view.cards[0].selected
    view.setFocus()
    assert view.columns == 2
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Down)  # two columns: Down moves a row
    assert view.current() is takes[3] and selected[-1] is takes[3]
    qtbot.keyClick(view, Qt.Key.Key_Home)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    qtbot.keyClick(view, Qt.Key.Key_K)
    assert toggled == [takes[0]] and kept == [takes[0]]
    qtbot.mouseClick(view.cards[2], Qt.MouseButton.LeftButton)
    assert view.current() is takes[2] and view.cards[2].selected and not view.cards[0].selected
    view.resize(330, 400)  # narrow: one column, Down moves to the next card
    qtbot.waitUntil(lambda: view.columns == 1)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.current() is takes[3]


def test_thumbnail_envelope_follows_the_audio():
    low, high = peak_envelope(tone_clip(seconds=1.0), 100)
    assert len(low) == len(high) == 100
    assert abs(high.max() - 0.3) < 1e-3 and abs(low.min() + 0.3) < 1e-3


def test_audition_without_an_audio_device_says_so_and_the_app_keeps_working(without_sound_server, qtbot,
                                                                           make_window):
    window = make_window()
    window.candidates.show_entries(entries(2))
    window.candidates.setFocus()
    window.statusBar().clearMessage()
    qtbot.keyClick(window.candidates, Qt.Key.Key_Space)
    message = window.statusBar().currentMessage()
    assert "audio" in message.lower() and "device" in message.lower()  # no sound card here
    assert not window.auditioner.is_playing
    qtbot.keyClick(window.candidates, Qt.Key.Key_Right)
    assert window.candidates.current_index == 1  # still responsive
    window.statusBar().clearMessage()
    qtbot.mouseClick(window.candidates.cards[0], Qt.MouseButton.LeftButton)  # a click auditions the take
    assert window.candidates.current_index == 0 and "device" in window.statusBar().currentMessage().lower()


def test_library_search_filters_favourite_delete_undo_and_reopen(qtbot, make_window):
    library = Library()
    door, rain, song = add_items(library, [("metal door slam", "sound", "cvssp/audioldm2", 5),
                                           ("rain on a tin roof", "sound", "cvssp/audioldm2-large", 6),
                                           ("lo-fi piano loop", "music", "cvssp/audioldm2-music", 7)])
    window = make_window(library=library)
    panel = window.library_panel
    assert panel.list.objectName() == "libraryList" and panel.list.count() == 3

    panel.search_edit.setText("door")
    qtbot.waitUntil(lambda: [i.id for i in panel.items()] == [door.id])
    panel.search_edit.clear()
    qtbot.waitUntil(lambda: panel.list.count() == 3)
    panel.mode_filter.setCurrentIndex(panel.mode_filter.findData("music"))
    assert [i.id for i in panel.items()] == [song.id]
    panel.mode_filter.setCurrentIndex(0)
    panel.model_filter.setCurrentIndex(panel.model_filter.findData("cvssp/audioldm2-large"))
    assert [i.id for i in panel.items()] == [rain.id]
    panel.model_filter.setCurrentIndex(0)

    assert panel.select_id(rain.id)
    qtbot.mouseClick(panel.favourite_button, Qt.MouseButton.LeftButton)
    assert library.get(rain.id).favourite and panel.list.currentItem().text().startswith("★")
    panel.favourites_only.setChecked(True)
    assert [i.id for i in panel.items()] == [rain.id]
    panel.favourites_only.setChecked(False)

    panel.select_id(door.id)
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert door.id not in [i.id for i in panel.items()] and library.get(door.id).trashed
    assert "trash" in window.statusBar().currentMessage()
    window.undo_action.trigger()  # Edit > Undo delete (Ctrl+Z)
    assert door.id in [i.id for i in panel.items()] and not library.get(door.id).trashed
    assert panel.current_item().id == door.id

    panel.select_id(song.id)
    qtbot.mouseClick(panel.reopen_button, Qt.MouseButton.LeftButton)
    gp = window.generation_panel
    assert gp.mode.name == "music" and gp.prompt_edit.text() == "lo-fi piano loop"
    assert gp.steps_spin.value() == 7 and gp.guidance_spin.value() == 2.5 and gp.seconds_spin.value() == 0.5
    assert gp.seed_lock.isChecked() and gp.seed_field.value() == 7
    assert gp.model_combo.currentData() == "cvssp/audioldm2-music"
    assert gp.build_request().seed == 7


def test_selecting_a_library_item_shows_it_and_its_row_drags_out_as_a_file(qtbot, make_window, settings):
    library = Library()
    (item,) = add_items(library, [("glass shatter", "sound", "cvssp/audioldm2", 99)])
    settings.export_format, settings.export_subtype, settings.export_rate = "flac", "pcm16", 44_100
    window = make_window(library=library)
    window.library_panel.select_id(item.id)
    assert window.selected_entry().library_id == item.id
    if window.waveform is not None:
        assert window.waveform.clip().frames == tone_clip().frames

    row_rect = window.library_panel.list.visualItemRect(window.library_panel.list.item(0))
    mime = window.library_drag.mime_data(row_rect.center())
    path = window.dragout.exported_file(mime)
    assert path.name == "glass-shatter_s99.flac" and path.is_file()
    info = sf.info(str(path))
    assert (info.samplerate, info.subtype, round(info.duration, 3)) == (44_100, "PCM_16", 0.5)
    assert "cvssp/audioldm2" in read_tags(path)["artist"]
    assert window.library_drag.mime_data(QPoint(5, row_rect.bottom() + 200)) is None  # empty space: no drag

    copied = window.copy_selected()
    try:
        assert QApplication.clipboard().mimeData().urls()[0].toLocalFile() == str(copied)
    finally:
        QApplication.clipboard().clear()  # offscreen Qt crashes at exit while the clipboard holds QMimeData


def test_builtin_and_user_presets_in_the_panel(qtbot, make_window, settings):
    window = make_window()
    gp = window.generation_panel
    door = next(p for p in builtin_presets("sound") if p.name.startswith("Door"))
    index = gp.preset_combo.findText(door.name)
    assert index > 0
    gp.preset_combo.setCurrentIndex(index)
    gp.preset_combo.activated.emit(index)
    assert gp.prompt_edit.text() == door.prompt and gp.candidates_spin.value() == door.candidates

    gp.prompt_edit.setText("my own whoosh")
    gp.steps_spin.setValue(12)
    gp.save_preset("Whoosh")
    assert [(p.name, p.prompt, p.steps) for p in user_presets("sound")] == [("Whoosh", "my own whoosh", 12)]
    window.close()

    again = make_window().generation_panel  # a new window reloads the saved preset
    index = again.preset_combo.findText("Whoosh (mine)")
    assert index > 0
    again.preset_combo.activated.emit(index)
    assert again.prompt_edit.text() == "my own whoosh" and again.steps_spin.value() == 12


def test_modes_follow_the_core_features_that_exist(make_window):
    import importlib.util

    names = [m.name for m in make_window().generation_panel.modes]
    assert names[:2] == ["sound", "music"]
    assert ("speech" in names) == (importlib.util.find_spec("core.speech") is not None)
    assert ("continue" in names) == (importlib.util.find_spec("core.incontext.regenerate") is not None)


def test_first_run_without_a_model_explains_what_to_download(make_window, settings, tiny_model_dir):
    window = make_window()
    assert window.first_run_banner.isVisible()
    text = window.first_run_text.text()
    assert "No model is installed" in text and "cvssp/audioldm2" in text and "4.5 GB" in text
    assert window.library_panel.isEnabled()
    settings.local_models = [str(tiny_model_dir)]
    window._on_models_changed()
    assert not window.first_run_banner.isVisible()


def test_settings_and_window_state_persist_under_the_config_folder(qtbot, make_window, settings, tmp_path):
    window = make_window()
    window.resize(1180, 700)
    window.library_dock.hide()
    window.generation_panel.set_mode("music")
    window.set_compute_device("cpu")
    window.close()
    assert settings.path.parent == tmp_path / "loa-config" and settings.path.is_file()

    from studio.shell.settings import StudioSettings

    reread = StudioSettings()
    assert reread.device == "cpu" and reread.last_mode == "music"
    again = make_window(settings=reread)
    # Offscreen, Qt fits a restored width to its 800-pixel virtual screen; height and dock state come back as saved.
    assert again.height() == 700 and not again.library_dock.isVisible()
    assert again.generation_panel.mode.name == "music"
    assert reread.export_settings().container is None  # "same as source" until the user picks a format


def test_space_in_the_prompt_types_a_space_and_elsewhere_plays(without_sound_server, qtbot, make_window):
    window = make_window()
    window.activateWindow()
    prompt = window.generation_panel.prompt_edit
    prompt.setFocus()
    qtbot.keyClicks(prompt, "door slam")
    assert prompt.text() == "door slam"
    window.candidates.show_entries(entries(1))
    window.candidates.setFocus()
    window.statusBar().clearMessage()
    qtbot.keyClick(window.candidates, Qt.Key.Key_Space)
    assert "audio" in window.statusBar().currentMessage().lower()  # tried to play: no device here


def test_export_and_audio_device_settings(make_window, settings):
    settings.export_format, settings.export_subtype, settings.export_rate = "flac", "float32", 16_000
    exported = settings.export_settings()
    assert (exported.container, exported.sample_format, exported.sample_rate) == ("flac", "pcm24", 16_000)
    settings.export_rate = 12_345  # a hand-edited value outside the offer falls back to the default
    assert settings.export_rate == 0 and settings.export_settings().sample_rate is None  # same as the source

    window = make_window()
    window.set_audio_device("Some Interface That Is Not Here")
    assert settings.audio_device is None  # not saved: the choice failed
    assert "audio" in window.statusBar().currentMessage().lower()


def test_each_mode_remembers_its_model(make_window, settings, tiny_model_dir):
    settings.local_models = [str(tiny_model_dir.resolve())]
    panel = make_window().generation_panel
    tiny = str(tiny_model_dir.resolve())
    assert panel.model_combo.currentData() == tiny  # installed models come first
    panel.set_mode("music")
    assert panel.model_combo.currentData() == tiny  # carried over: it suits music too
    panel.set_model("cvssp/audioldm2-music")
    assert "not installed" in panel.model_note.text()
    panel.set_mode("sound")
    assert panel.model_combo.currentData() == tiny
    panel.set_mode("music")
    assert panel.model_combo.currentData() == "cvssp/audioldm2-music"


def test_delete_key_in_the_library_list_trashes_the_selection(qtbot, make_window):
    library = Library()
    (item,) = add_items(library, [("creaky hinge", "sound", "cvssp/audioldm2", 1)])
    window = make_window(library=library)
    panel = window.library_panel
    panel.select_id(item.id)
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    assert library.get(item.id).trashed and panel.list.count() == 0


def test_a_long_library_list_lays_out_in_batches_and_a_new_take_goes_on_top(qtbot):
    """Laying out thousands of word-wrapped rows in one pass held the GUI thread 0.2 s beside a generation after
    each take (benchmarks/bench_gui_pause.py); the list lays out LAYOUT_BATCH rows per event-loop pass instead."""
    from benchmarks.bench_gui_pause import prefill_library
    from studio.library.library_panel import LAYOUT_BATCH, LibraryPanel

    prefill_library(5 * LAYOUT_BATCH)
    library = Library()
    panel = LibraryPanel(library)
    qtbot.addWidget(panel)
    panel.resize(350, 600)
    panel.show()
    panel.refresh()
    first, last = panel.list.item(0), panel.list.item(5 * LAYOUT_BATCH - 1)
    for _ in range(50):  # single event passes until the first rows are laid out
        QApplication.processEvents()
        if panel.list.visualItemRect(first).isValid():
            break
    assert panel.list.visualItemRect(first).isValid()
    assert not panel.list.visualItemRect(last).isValid()  # the rest comes in later passes
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key.Key_End)  # a jump to the end before the rest is laid out still lands there
    assert panel.list.currentRow() == 5 * LAYOUT_BATCH - 1 and panel.list.visualItemRect(last).isValid()
    qtbot.waitUntil(lambda: panel.list.visualItemRect(last).isValid())

    (take,) = add_items(library, [("glass shatter", "sound", "cvssp/audioldm2", 3)])
    panel.items_added([take.id])
    assert panel.list.count() == 5 * LAYOUT_BATCH + 1 and panel.items()[0].id == take.id
    qtbot.waitUntil(lambda: panel.list.visualItemRect(panel.list.item(0)).isValid()
                    and panel.list.visualItemRect(last).isValid())
    assert panel.list.visualItemRect(panel.list.item(0)).bottom() < panel.list.visualItemRect(panel.list.item(1)).top()
