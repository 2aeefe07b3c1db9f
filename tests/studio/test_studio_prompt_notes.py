"""A prompt longer than the model reads is cut, and the window says so after the takes arrive."""

from PySide6.QtCore import Qt
from studio_helpers import fill_panel

LONG_PROMPT = " ".join(["rain on a tin roof"] * 30)


def test_a_cut_prompt_is_reported_in_the_window(qtbot, tiny_window):
    fill_panel(tiny_window, LONG_PROMPT, seconds=0.5, steps=2, candidates=1, seed=3)
    with qtbot.waitSignal(tiny_window.jobs.job_finished, timeout=180_000) as finished:
        qtbot.mouseClick(tiny_window.generation_panel.generate_button, Qt.MouseButton.LeftButton)
    _, result = finished.args
    assert result.prompt_used and LONG_PROMPT.startswith(result.prompt_used)
    shown = tiny_window.statusBar().toolTip()
    assert "the prompt is longer than the model reads" in shown and "of 150 words were used" in shown
