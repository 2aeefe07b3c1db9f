"""The job queue on its own, the seed lock, keeping when only kept takes are stored, and the entry point."""

import os
import subprocess
import sys

from studio_helpers import fill_panel

from core.generation.requests import GenerationRequest
from studio.jobs.job_queue import JobQueue, JobSpec

JOB_TIMEOUT_MS = 180_000


def test_queued_jobs_run_in_order_and_a_crash_becomes_one_message(qtbot, tiny_model_dir):
    queue = JobQueue()
    order = []
    queue.job_started.connect(lambda job: order.append(job.id))

    def broken(engine, spec, progress, cancel):
        raise RuntimeError("vocoder exploded\nwith a long traceback-ish tail")

    fast = GenerationRequest("a bell", seconds=1.0, steps=2, seed=1)
    first = queue.submit(JobSpec("sound", str(tiny_model_dir), fast))
    second = queue.submit(JobSpec("sound", str(tiny_model_dir), fast, work=broken))
    third = queue.submit(JobSpec("sound", str(tiny_model_dir), GenerationRequest("a bell", seconds=1.0, steps=2)))
    with qtbot.waitSignal(queue.job_failed, timeout=JOB_TIMEOUT_MS) as failed:
        pass
    assert failed.args[1] == "Generation failed: RuntimeError: vocoder exploded"
    qtbot.waitUntil(lambda: third.done, timeout=JOB_TIMEOUT_MS)
    assert order == [first.id, second.id, third.id]
    assert (first.status, second.status, third.status) == ("finished", "failed", "finished")
    assert first.result.candidates[0].seed == 1 and third.result.request.seed is not None
    assert queue.engines.get(str(tiny_model_dir)) is queue.engines.get(str(tiny_model_dir))  # one resident engine
    assert queue.shutdown()


def test_unlocked_seeds_are_random_and_shown_locked_seeds_repeat(qtbot, tiny_window):
    panel = fill_panel(tiny_window, "a bell", seconds=1.0, steps=2, candidates=1)
    assert not panel.seed_lock.isChecked() and panel.build_request().seed is None
    with qtbot.waitSignal(tiny_window.jobs.job_finished, timeout=JOB_TIMEOUT_MS) as done:
        panel.request_generate()
    used = done.args[1].request.seed
    assert panel.seed_field.value() == used  # shown so it can be locked
    panel.seed_lock.setChecked(True)
    with qtbot.waitSignal(tiny_window.jobs.job_finished, timeout=JOB_TIMEOUT_MS) as again:
        panel.request_generate()
    assert again.args[1].request.seed == used
    assert (again.args[1].best.clip.samples == done.args[1].best.clip.samples).all()


def test_with_only_kept_takes_stored_keep_adds_the_take(qtbot, tiny_window, settings):
    settings.store_all_generations = False
    fill_panel(tiny_window, "a bell", seconds=1.0, steps=2, candidates=2, seed=5)
    with qtbot.waitSignal(tiny_window.jobs.job_finished, timeout=JOB_TIMEOUT_MS):
        tiny_window.generation_panel.request_generate()
    assert tiny_window.library.count() == 0
    tiny_window.keep(tiny_window.candidates.cards[0].entry)
    (item,) = tiny_window.library.search("bell")
    assert item.kept and item.seed == tiny_window.candidates.cards[0].entry.seed
    assert tiny_window.library_panel.list.count() == 1


def test_loa_studio_entry_point_opens_the_window_and_exits_cleanly(tmp_path):
    """In a child process: app.exec() ends the application, which a shared pytest-qt app must not go through.
    Start-up also sweeps the hidden temps a killed writer left in the app's folders (core.stale_temps)."""
    from core.stale_temps import temp_path_for

    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    pads = tmp_path / "loa-data" / "pads"
    pads.mkdir(parents=True, exist_ok=True)
    stale = pads / temp_path_for(pads / "kick.wav").name.replace(f"-{os.getpid()}-", f"-{finished.pid}-")
    stale.write_bytes(b"left by a killed writer")
    (pads / ".kick.tmp.wav").write_bytes(b"the user's")
    script = (
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from studio.app import main\n"
        "from studio.shell.main_window import MainWindow\n"
        "def close_it():\n"
        "    wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]\n"
        "    print('windows', len(wins), wins[0].generation_panel.generate_button.objectName())\n"
        "    wins[0].close()\n"
        "app = QApplication([])\n"
        "QTimer.singleShot(1000, close_it)\n"
        "raise SystemExit(main([]))\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "windows 1 generateButton" in done.stdout
    assert "Traceback" not in done.stderr and "Fatal" not in done.stderr
    assert (tmp_path / "loa-config" / "studio.ini").is_file()  # window state saved on close
    assert not stale.exists() and (pads / ".kick.tmp.wav").read_bytes() == b"the user's"


def _retained_sample_bytes(queue) -> int:
    """Bytes of every numpy array reachable from the queue's jobs (functions, modules, classes, Qt objects and
    the engines are not followed: they are not the jobs' own)."""
    import gc
    import types

    import numpy as np
    from PySide6.QtCore import QObject

    seen, todo, total = set(), [queue.jobs], 0
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, (types.FunctionType, types.ModuleType, type, QObject, types.MethodType)):
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            total += obj.nbytes
            continue
        todo.extend(gc.get_referents(obj))
    return total


def test_finished_jobs_keep_their_takes_settings_not_their_audio(qtbot, tiny_model_dir):
    """A long session's queue does not grow with every take: once a finished job is delivered, it keeps seeds,
    scores and settings, and drops the audio (the takes live on cards and in the library)."""
    queue = JobQueue()
    delivered = []
    queue.job_finished.connect(lambda job, result: delivered.append(result.best.clip.frames))
    request = GenerationRequest("a bell", seconds=1.0, steps=1, seed=3)
    after = {}
    for n in range(1, 51):
        job = queue.submit(JobSpec("sound", str(tiny_model_dir), request))
        qtbot.waitUntil(lambda: job.done, timeout=JOB_TIMEOUT_MS)
        assert job.status == "finished", job.error
        if n in (5, 50):
            after[n] = _retained_sample_bytes(queue)
    assert delivered == [16_000] * 50  # every handler got the audio
    assert job.result.best.seed == 3 and job.result.best.settings["prompt"] == "a bell"
    assert after[50] <= after[5] and after[50] < 16_000 * 4  # less than one take's samples, however many jobs
    assert queue.shutdown()
