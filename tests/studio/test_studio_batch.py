"""File > Batch render…: the job file's check is shown (bad rows with their lines), rendering runs off the GUI
thread with progress, and every file lands in the folder and in the library under the batch name."""

import json

from PySide6.QtWidgets import QFileDialog

from studio.export.batch_render import BatchRenderDialog, open_batch_render


def write_jobs(tmp_path, model):
    path = tmp_path / "footsteps.csv"
    path.write_text("prompt,seconds,seed,steps,model,output\n"
                    f"footsteps on gravel,0.5,1-3,1,{model},{{slug}}_{{seed}}\n"
                    f",0.5,1,1,{model},\n")
    return path


def test_batch_render_from_the_file_menu_adds_outputs_to_the_library(tiny_window, qtbot, tmp_path, monkeypatch,
                                                                     tiny_model_dir):
    jobs = write_jobs(tmp_path, tiny_model_dir)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(jobs), ""))
    window = tiny_window
    action = next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "&Batch render…")
    action.trigger()
    dialog = window.batch_dialog
    assert isinstance(dialog, BatchRenderDialog) and dialog.isVisible()
    assert "1 good row, 3 files to render; 1 bad row will be skipped" in dialog.summary.text()
    assert dialog.errors.item(0).text().startswith("line 3: prompt: prompt is empty")
    assert dialog.out == tmp_path / "footsteps"

    dialog.render_button.click()
    assert dialog.cancel_button.text() == "Cancel"
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    assert dialog.status.text().startswith("Done: 3 rendered, 0 already there"), dialog.status.text()
    assert dialog.bar.value() == 3
    names = sorted(p.name for p in (tmp_path / "footsteps").glob("*.wav"))
    assert names == [f"footsteps-on-gravel_{s}.wav" for s in (1, 2, 3)]
    manifest = (tmp_path / "footsteps" / "manifest.jsonl").read_text().splitlines()
    assert len(manifest) == 1 + 3  # the header, one line per file
    items = window.library.search("footsteps")  # the batch name finds them
    assert sorted(i.seed for i in items) == [1, 2, 3] and all(i.settings["batch"] == "footsteps" for i in items)

    dialog.render_button.click()  # again: everything is already there, nothing is rendered or added twice
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    assert dialog.status.text().startswith("Done: 0 rendered, 3 already there"), dialog.status.text()
    assert len(window.library.search("footsteps")) == 3


def test_cancel_stops_after_the_files_in_flight_and_render_again_resumes(qtbot, tmp_path, tiny_model_dir):
    from core.generation.engine_cache import EngineCache
    from core.library.store import Library

    jobs = write_jobs(tmp_path, tiny_model_dir)
    dialog = BatchRenderDialog(jobs, EngineCache(device="cpu"), Library(tmp_path / "library"))
    qtbot.addWidget(dialog)
    dialog.max_batch = 1
    dialog.on_added = lambda: dialog.cancel_button.click()  # Cancel as soon as the first batch has landed
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    first = len(dialog.added)
    assert dialog.status.text().startswith("Cancelled after"), dialog.status.text()
    dialog.on_added = None
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    assert dialog.status.text().startswith(f"Done: {3 - first} rendered, {first} already there")
    records = [json.loads(line) for line in (tmp_path / "footsteps" / "manifest.jsonl").read_text().splitlines()[1:]]
    assert sorted(r["seed"] for r in records) == [1, 2, 3]


def test_rows_without_a_model_use_the_model_picked_in_the_window(tiny_window, tmp_path, monkeypatch, tiny_model_dir):
    """A first-time user with only a local model: rows naming no model must not fall back to an uninstalled
    cvssp/audioldm2 and be flagged as bad rows."""
    jobs = tmp_path / "rain.csv"
    jobs.write_text("prompt,seconds,seed,steps\nrain on a tin roof,0.5,1-2,1\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(jobs), ""))
    dialog = open_batch_render(tiny_window)
    assert not dialog.job.errors, [str(e) for e in dialog.job.errors]
    assert [row.model for row in dialog.job.rows] == [str(tiny_model_dir.resolve())]
    assert dialog.summary.text() == "1 good row, 2 files to render."
    assert tiny_model_dir.name in dialog.model_line.text() and "picked in the window" in dialog.model_line.text()
    assert dialog.render_button.isEnabled()
