"""Job rows: the title ends in … when cut, elapsed time, an estimate from the last runs on this device, and
finished jobs kept in a collapsible history (issue 9)."""

import json

from studio_helpers import fill_panel

from core.generation.job_times import FILE_NAME
from core.paths import cache_dir

JOB_TIMEOUT_MS = 180_000


def test_finished_jobs_stay_in_a_history_with_their_time_and_the_next_job_has_an_estimate(qtbot, tiny_window):
    window = tiny_window
    window.resize(1024, 640)
    long_prompt = "a very long prompt about rain on a tin roof with distant thunder and a dog barking far away"
    fill_panel(window, long_prompt, seconds=1.0, steps=2, candidates=1)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=JOB_TIMEOUT_MS) as finished:
        window.generation_panel.request_generate()
    job = finished.args[0]
    row = window.job_list.rows[job.id]
    assert row.title.toolTip() == long_prompt
    assert row in window.job_list.history_rows() and row.time_label.text().startswith("took 0:")
    assert not row.cancel_button.isVisibleTo(row)
    toggle = window.job_list.history_button
    assert toggle.isVisibleTo(window) and toggle.text() == "History (1)"
    assert not window.job_list.history.isVisibleTo(window)  # collapsed until asked
    toggle.click()
    assert window.job_list.history.isVisibleTo(window)

    times = window.job_list.times
    learnt = times.estimate(job.spec.model, 1.0, 2, 1)  # learnt from the run: the row's time, kept on disk
    runs = json.loads((cache_dir() / FILE_NAME).read_text())["runs"]
    assert learnt is not None and [list(v) for v in runs.values()] == [["other"]]  # 1 s: no compiled bucket
    fill_panel(window, "second take", seconds=1.0, steps=2, candidates=1)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=JOB_TIMEOUT_MS) as again:
        window.generation_panel.request_generate()
    second = window.job_list.rows[again.args[0].id]
    assert second.estimate == learnt and second.time_label.text().startswith("took 0:")
    assert window.job_list.history_rows()[0] is second and toggle.text() == "History (2)"


def test_a_cut_title_ends_in_an_ellipsis(qtbot):
    from studio.jobs.job_list import ElidedLabel

    label = ElidedLabel("metal door slam in a large reverberant hall with a long tail")
    qtbot.addWidget(label)
    label.resize(90, 20)
    label.show()
    assert label.text().endswith("…") and label.toolTip().startswith("metal door slam")
