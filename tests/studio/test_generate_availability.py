"""Generate is off, with the reason beside it, while the picked model is not installed; it comes back once the
model is available (a first-time user used to queue a job that could only fail)."""

from PySide6.QtCore import Qt


def test_generate_waits_for_an_installed_model(qtbot, make_window, tiny_model_dir):
    window = make_window()  # nothing installed: the picker holds the catalog's default, not downloaded
    panel = window.generation_panel
    bar = panel.generate_bar
    panel.set_mode("sound")
    panel.prompt_edit.setText("door slam")
    assert not panel.generate_button.isEnabled()
    assert bar.reason.isVisible() and "not installed" in bar.reason.text()
    assert bar.install_button.isVisible()
    messages = []
    panel.message.connect(messages.append)
    submitted = []
    window.jobs.job_added.connect(submitted.append)
    panel.request_generate()  # Ctrl+Enter and Edit > Generate take this path: refused before any job
    assert messages and "not installed" in messages[-1] and "Models…" in messages[-1]
    assert not submitted

    qtbot.mouseClick(bar.install_button, Qt.MouseButton.LeftButton)
    dialog = window.model_manager
    assert dialog is not None and dialog.isVisible()
    assert dialog.add_local_folder(str(tiny_model_dir))
    assert panel.generate_button.isEnabled()
    assert not bar.reason.isVisible() and not bar.install_button.isVisible()
    dialog.done(0)


def test_picking_an_uninstalled_model_turns_generate_off_and_back_on(tiny_window):
    panel = tiny_window.generation_panel
    assert panel.generate_button.isEnabled() and not panel.generate_bar.reason.isVisible()
    uninstalled = next(i for i in range(panel.model_combo.count()) if not panel._choices[i].installed)
    panel.model_combo.setCurrentIndex(uninstalled)
    assert not panel.generate_button.isEnabled()
    assert panel._choices[uninstalled].spec in panel.generate_bar.reason.text()
    panel.model_combo.setCurrentIndex(0)  # installed models come first
    assert panel.generate_button.isEnabled() and not panel.generate_bar.reason.isVisible()


def test_the_compact_windows_generate_follows_the_full_windows(make_window, tiny_model_dir):
    """Beside the DAW the compact window is all the user sees: its Generate is off, saying why, exactly while the
    full window's is, and comes back with it."""
    window = make_window()  # nothing installed
    window.midi.compact_action.trigger()
    compact = window.midi.compact
    assert compact.isVisible()
    assert not compact.generate_button.isEnabled()
    assert "not installed" in compact.generate_button.toolTip()
    window.generation_panel.generate_bar.install_button.click()
    dialog = window.model_manager
    assert dialog.add_local_folder(str(tiny_model_dir))
    dialog.done(0)
    assert compact.generate_button.isEnabled()
    assert "not installed" not in compact.generate_button.toolTip()
    window.midi.compact_action.trigger()
