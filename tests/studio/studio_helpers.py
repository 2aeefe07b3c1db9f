"""Helpers shared by the studio tests (imported by name: tests/studio is on sys.path under pytest)."""

import numpy as np

from core.audio.clip import Clip


def fill_panel(window, prompt="metal door slam in a large hall", seconds=1.0, steps=3, candidates=2, seed=None):
    panel = window.generation_panel
    panel.prompt_edit.setText(prompt)
    panel.seconds_spin.setValue(seconds)
    panel.steps_spin.setValue(steps)
    panel.candidates_spin.setValue(candidates)
    if seed is not None:
        panel.seed_field.setValue(seed)
        panel.seed_lock.setChecked(True)
    return panel


def tone_clip(freq=440.0, seconds=0.5, rate=16_000):
    t = np.arange(int(seconds * rate)) / rate
    return Clip((0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)


def queue_uninstalled_model_job(panel, model="cvssp/audioldm2"):
    """A job on a model that is not installed (e.g. removed after it was picked): Generate is off for such a model,
    so the job is handed to the window the way Generate hands one over."""
    from studio.generate.modes import work_for
    from studio.jobs.job_queue import JobSpec

    panel.generate_requested.emit(JobSpec(mode=panel.mode.name, model=model, request=panel.build_request(),
                                          work=work_for(panel.mode)))


def run_export_dialog(act):
    """Call `act(dialog)` once File > Export…'s dialog is up (it is modal: the caller triggers it right after);
    what `act` returns is kept in `seen['result']`."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from studio.export.export_dialog import ExportDialog

    seen = {}

    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ExportDialog):
            QTimer.singleShot(20, answer)
            return
        seen["result"] = act(dialog)
    QTimer.singleShot(20, answer)
    return seen


def settled(qtbot, condition, timeout=2000) -> bool:
    """Wait until `condition()` holds (layout, timers and posted events run meanwhile) instead of a fixed pause;
    return its final value, so the caller's assert keeps its own message."""
    try:
        qtbot.waitUntil(lambda: bool(condition()), timeout=timeout)
    except qtbot.TimeoutError:
        pass
    return bool(condition())


def steady(qtbot, read, polls=5, timeout=3000):
    """The value `read()` settles on: polled as the event loop runs until it stays the same `polls` times in a
    row (a layout that is still moving is waited for, not sampled mid-way)."""
    seen = []

    def unchanged():
        seen.append(read())
        return len(seen) >= polls and all(v == seen[-1] for v in seen[-polls:])

    settled(qtbot, unchanged, timeout)
    return read()
