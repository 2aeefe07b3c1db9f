"""Fixtures for the studio window tests (offscreen Qt, tiny model as a local-folder model)."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio import Clip


@pytest.fixture
def settings():
    from studio.settings import StudioSettings

    return StudioSettings()


@pytest.fixture
def make_window(qtbot, settings):
    """Build MainWindows and tear them down properly (close, deleteLater, processEvents: see DESKTOP.md)."""
    from PySide6.QtWidgets import QApplication

    from studio.main_window import MainWindow

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


def fill_panel(window, prompt="metal door slam in a large hall", seconds=1.0, steps=3, candidates=2, seed=None):
    panel = window.generation_panel
    panel.prompt_edit.setText(prompt)
    panel.seconds_spin.setValue(seconds)
    panel.steps_spin.setValue(steps)
    panel.candidates_spin.setValue(candidates)
    if seed is not None:
        panel.seed_spin.setValue(seed)
        panel.seed_lock.setChecked(True)
    return panel


def tone_clip(freq=440.0, seconds=0.5, rate=16_000):
    t = np.arange(int(seconds * rate)) / rate
    return Clip((0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
