"""Adding a model folder selects it, messages speak the window's language, long messages stay readable, the
compute device menu offers only usable devices, and the licence is shown (issue 9)."""

from studio_helpers import queue_uninstalled_model_job

from core.devices.compute import compute_devices
from core.models.store import not_installed_message


def test_adding_a_local_folder_selects_it_for_its_modes_and_clears_the_error(qtbot, make_window, settings,
                                                                           tiny_model_dir):
    window = make_window()
    panel = window.generation_panel
    panel.set_mode("sound")
    panel.prompt_edit.setText("door slam")
    panel.steps_spin.setValue(2)
    panel.candidates_spin.setValue(1)
    with qtbot.waitSignal(window.jobs.job_failed, timeout=60_000):
        queue_uninstalled_model_job(panel)  # the default catalog model is not installed here
    assert window.error_banner.isVisible() and "not installed" in window.error_banner.text()
    assert "--model" not in window.error_banner.text() and "loa models" not in window.error_banner.text()
    assert "Models…" in window.error_banner.text()

    dialog = window.open_model_manager()
    folder = str(tiny_model_dir.resolve())
    assert dialog.add_local_folder(str(tiny_model_dir))
    assert panel.model_combo.currentData() == folder and not window.error_banner.isVisible()
    assert settings.model_for_mode("sound") == folder and settings.model_for_mode("music") == folder
    panel.set_mode("music")
    assert panel.model_combo.currentData() == folder
    assert "--" not in dialog.status.text()
    dialog.done(0)


def test_cli_advice_is_rewritten_for_the_window(make_window):
    window = make_window()
    window.show_error("device cuda was asked for but no CUDA GPU is usable here; use --device cpu or auto.")
    assert "--device" not in window.error_banner.text() and "Compute device" in window.error_banner.text()
    window.show_message(not_installed_message("cvssp/audioldm2-music"))
    assert "--model" not in window.statusBar().currentMessage()
    assert "loa models" not in window.first_run_text.text()


def test_a_long_message_is_shown_whole(make_window):
    window = make_window()
    window.resize(1024, 640)
    long_text = "Queued “" + "a very long prompt about a rain storm " * 6 + "” on /home/someone/models/audioldm2."
    window.show_message(long_text)
    assert window.message_area.isVisibleTo(window) and window.message_area.text() == long_text
    assert window.statusBar().toolTip() == long_text
    window.show_message("Short.")
    assert not window.message_area.isVisibleTo(window)


def test_the_device_menu_offers_only_usable_devices_and_says_why_not(make_window):
    window = make_window()
    devices = {d.name: d for d in compute_devices()}
    for name, action in window.device_actions.items():
        assert action.isEnabled() == devices[name].usable
        if not devices[name].usable:
            assert "not usable" in action.text()
    assert window.device_actions["cpu"].isEnabled() and window.device_actions["auto"].isEnabled()


def test_the_licence_is_shown_beside_the_model_picker(make_window, settings, tiny_model_dir):
    window = make_window()
    note = window.generation_panel.model_note.text()
    assert "CC-BY-NC-SA-4.0" in note and "non-commercial" in note  # the uninstalled default's licence too


def test_export_shows_the_licence(qtbot, make_window):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from studio_helpers import tone_clip

    from studio.export.export_dialog import ExportDialog
    from studio.shell.clip_entry import ClipEntry

    window = make_window()
    entry = ClipEntry(tone_clip(), prompt="door", mode="sound", model="cvssp/audioldm2", licence="CC-BY-NC-SA-4.0",
                      seed=1)
    window.candidates.show_entries([entry])
    titles = []

    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ExportDialog):
            QTimer.singleShot(20, answer)
            return
        titles.append(dialog.windowTitle())
        dialog.reject()
    QTimer.singleShot(0, answer)
    assert window.export_selected() is None
    assert titles and "CC-BY-NC-SA-4.0" in titles[0]


def test_the_app_quiets_the_model_libraries_where_a_pipeline_loads_and_keeps_its_own_warnings(qapp):
    """The window asks for quiet at start; the libraries are quieted where the pipeline loads (their own setters),
    and only their developer-facing FutureWarnings are ignored: the application's own still show."""
    import logging
    import warnings

    import transformers.utils.logging as tlog

    from core.quiet import quiet_model_libraries
    from studio.app import make_application

    tlog.set_verbosity(logging.WARNING)
    tlog.enable_progress_bar()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        assert make_application() is qapp
        quiet_model_libraries()  # what load_pipeline calls
        warnings.warn_explicit("a deprecation the user cannot act on", FutureWarning, "x.py", 1,
                               module="transformers.models.x")
        warnings.warn("the application's own deprecation", FutureWarning)
    assert [str(w.message) for w in caught] == ["the application's own deprecation"]
    assert tlog.get_verbosity() == logging.ERROR and not tlog.is_progress_bar_enabled()