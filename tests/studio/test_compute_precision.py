"""The Compute menu's precision items: the choice persists and becomes the precision of the next engines."""

from __future__ import annotations

import os


def test_the_compute_menu_sets_the_precision_of_the_next_engines(make_window, settings):
    window = make_window()
    assert window.precision_actions["auto"].isChecked() and not window.precision_actions["bf16"].isChecked()
    engine = window.jobs.engines.get("some-model")
    assert engine.fast.precision == "auto"
    window.precision_actions["fp32"].trigger()
    assert settings.precision == "fp32" and window.precision_actions["fp32"].isChecked()
    assert os.environ["LOA_PRECISION"] == "fp32"
    fresh = window.jobs.engines.get("some-model")
    assert fresh is not engine and fresh.fast.precision == "fp32"  # the loaded engine was dropped


def test_a_saved_precision_is_checked_and_applied_at_start(make_window, settings):
    settings.precision = "bf16"
    window = make_window()
    assert window.precision_actions["bf16"].isChecked()
    assert window.jobs.engines.get("some-model").fast.precision == "bf16"
    settings.precision = "fp64"  # a hand-edited file
    assert settings.precision == "auto"


def test_the_compute_menu_low_vram_item_persists_and_says_it_is_ignored_on_a_cpu(make_window, settings,
                                                                                monkeypatch):
    monkeypatch.setenv("LOA_LOW_VRAM", "0")  # (restored after the test: the menu writes the variable)
    settings.device = "cpu"
    window = make_window()
    action = window.low_vram_action
    assert action.isCheckable() and not action.isChecked()
    engine = window.jobs.engines.get("some-model")
    assert not engine.fast.low_vram_requested
    action.trigger()
    assert settings.low_vram and os.environ["LOA_LOW_VRAM"] == "1"
    fresh = window.jobs.engines.get("some-model")
    assert fresh is not engine and fresh.fast.low_vram_requested and not fresh.fast.offload.enabled
    assert "ignored on cpu" in window.statusBar().currentMessage()
    action.trigger()
    assert not settings.low_vram and "LOA_LOW_VRAM" not in os.environ
    settings.low_vram = True
    assert make_window().low_vram_action.isChecked() and os.environ["LOA_LOW_VRAM"] == "1"
