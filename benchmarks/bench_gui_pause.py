"""The longest GUI-thread pause while the window generates without a break, as JSON.

    python benchmarks/bench_gui_pause.py --model FOLDER [--minutes 10] [--seconds 2] [--steps 10] [--out FILE]

Opens the real window (studio.app.make_application: the GUI-thread collector of core.gc_policy; the start-up
freeze as studio.app.main does), points it at the model folder and queues a new generation each time one
finishes, for --minutes. A 10 ms precise timer on the GUI thread measures how late each tick comes (any
stall: collection, painting, a slow slot); core.gc_policy reports the longest collection pass. Both must
stay under the 0.2 s playback buffer. Library and settings go to a temporary folder.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.json_report import print_and_save  # noqa: E402

TICK_MS = 10


def run(model: Path, minutes: float, seconds: float, steps: int) -> dict:
    from PySide6.QtCore import Qt, QTimer

    from core import gc_policy
    from studio.app import make_application
    from studio.shell.main_window import MainWindow
    from studio.shell.settings import StudioSettings

    app = make_application(["bench"])
    settings = StudioSettings()
    settings.local_models = [str(model)]
    window = MainWindow(settings=settings)
    window.show()
    gc_policy.freeze()  # as studio.app.main does after start-up
    panel = window.generation_panel
    panel.set_model(str(model))
    panel.prompt_edit.setText("rain on a tin roof")
    panel.seconds_spin.setValue(seconds)
    panel.steps_spin.setValue(steps)
    panel.candidates_spin.setValue(2)

    gaps, last, jobs, slow, pass_start = [], [time.perf_counter()], [0], [], [0.0]

    def note_collection(phase, info) -> None:  # every pass over 50 ms: when, which generation, how long
        if phase == "start":
            pass_start[0] = time.perf_counter()
        elif time.perf_counter() - pass_start[0] > 0.05:
            slow.append({"at_s": round(pass_start[0] - started, 1), "generation": info["generation"],
                         "seconds": round(time.perf_counter() - pass_start[0], 3),
                         "frozen": gc.get_freeze_count(), "tracked": len(gc.get_objects())})

    gc.callbacks.append(note_collection)
    started = time.perf_counter()
    end = started + minutes * 60

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    def next_job(*_args) -> None:
        if time.perf_counter() < end:
            jobs[0] += 1
            panel.request_generate()
        else:
            app.quit()

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    window.jobs.job_finished.connect(next_job)
    window.jobs.job_failed.connect(next_job)
    QTimer.singleShot(0, next_job)
    gc_policy.reset_longest_pause()
    app.exec()
    gc.callbacks.remove(note_collection)
    elapsed = time.perf_counter() - started
    window.close()
    window.deleteLater()
    app.processEvents()
    gaps.sort()
    late = [g - TICK_MS / 1000 for g in gaps]
    return {"minutes": round(elapsed / 60, 2), "generations_started": jobs[0], "ticks": len(gaps),
            "longest_gui_pause_s": round(max(late), 4), "p99_gui_pause_s": round(late[int(len(late) * 0.99)], 4),
            "longest_collection_s": round(gc_policy.longest_pause(), 4),
            "pauses_over_0_2_s": sum(1 for g in late if g > 0.2), "collections_over_50_ms": slow}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a local AudioLDM 2 model folder")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each generation")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        for env in ("LOA_DATA_DIR", "LOA_CONFIG_DIR", "LOA_CACHE_DIR"):
            os.environ[env] = str(Path(home) / env.lower())
        result = run(args.model.resolve(), args.minutes, args.seconds, args.steps)
    print_and_save({"machine": platform.node(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "load_average": os.getloadavg(), **result}, args.out)


if __name__ == "__main__":
    main()
