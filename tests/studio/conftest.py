"""Fixtures for the studio window tests (offscreen Qt, tiny model as a local-folder model)."""

from __future__ import annotations

import pytest


@pytest.fixture
def settings():
    from studio.shell.settings import StudioSettings

    return StudioSettings()


@pytest.fixture
def make_window(qtbot, settings):
    """Build MainWindows and tear them down properly (close, deleteLater, processEvents: a window left to interpreter exit can abort the run)."""
    from PySide6.QtWidgets import QApplication

    from studio.shell.main_window import MainWindow

    windows = []

    def make(**kwargs):
        window = MainWindow(settings=kwargs.pop("settings", settings), **kwargs)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        window.deleteLater()
    QApplication.processEvents()


@pytest.fixture
def tiny_window(make_window, settings, tiny_model_dir):
    """A window whose model picker holds the tiny model, added as a local folder like a user would."""
    settings.local_models = [str(tiny_model_dir.resolve())]
    window = make_window()
    window.generation_panel.set_model(str(tiny_model_dir.resolve()))
    return window


@pytest.fixture
def exports(tmp_path, settings):
    """The export folder the window's settings point at (an empty folder)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    settings.export_folder = str(folder)
    return folder


@pytest.fixture
def speech_window(make_window, settings, tiny_speech_model_dir):
    """A window in Speech mode on the tiny speech model, with fast settings."""
    folder = str(tiny_speech_model_dir.resolve())
    settings.local_models = [folder]
    window = make_window()
    panel = window.generation_panel
    panel.set_mode("speech")
    panel.set_model(folder)
    panel.prompt_edit.setText("a calm narrator")
    panel.steps_spin.setValue(2)
    panel.candidates_spin.setValue(1)
    return window
