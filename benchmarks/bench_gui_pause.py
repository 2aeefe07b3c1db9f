"""The longest GUI-thread pause while the window generates without a break, as JSON.

    python benchmarks/bench_gui_pause.py --model FOLDER [--minutes 10] [--seconds 2] [--steps 10]
        [--library-items N] [--out FILE]

Opens the real window (studio.app.make_application: the GUI-thread collector of core.gc_policy; the start-up
freeze as studio.app.main does), points it at the model folder and queues a new generation each time one
finishes, for --minutes. A 10 ms precise timer on the GUI thread measures how late each tick comes (any
stall: collection, painting, a slow slot); core.gc_policy reports the longest collection pass. Both must
stay under the 0.2 s playback buffer. A watchdog thread samples every thread's stack while a tick is over
0.1 s late (`stalls_over_0_2_s`: what the GUI thread ran, or which thread held the interpreter). Library and
settings go to a temporary folder; `--library-items` starts it with that many takes.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.json_report import print_and_save  # noqa: E402

TICK_MS = 10
STALL_S = 0.1  # a tick this late: the watchdog notes where every thread is


def _where(frame, depth: int = 4) -> str:
    """The innermost `depth` frames of a stack as 'file:line func' joined by ' < ' (innermost first)."""
    stack = traceback.extract_stack(frame)[-depth:][::-1]
    return " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in stack)


class StallWatch(threading.Thread):
    """Samples every thread's stack while the GUI thread's timer is late by more than STALL_S: what the GUI thread
    was running (a slow slot, painting) or, when it sits in the event loop, which other thread held the GIL."""

    def __init__(self, last_tick: list, gui_ident: int) -> None:
        super().__init__(name="stall-watch", daemon=True)
        self.last_tick, self.gui_ident, self.stop = last_tick, gui_ident, threading.Event()
        self.started = time.perf_counter()
        self.stalls: list[dict] = []

    def run(self) -> None:
        current = None
        while not self.stop.wait(TICK_MS / 1000):
            late = time.perf_counter() - self.last_tick[0]
            if late < STALL_S:
                current = None
                continue
            names = {t.ident: t.name for t in threading.enumerate()}
            frames = sys._current_frames()
            sample = {names.get(ident, str(ident)): _where(frame) for ident, frame in frames.items()
                      if ident != self.ident}
            if current is None or current["tick"] != self.last_tick[0]:
                current = {"tick": self.last_tick[0], "at_s": round(self.last_tick[0] - self.started, 1),
                           "late_s": 0.0, "gui": [], "others": []}
                self.stalls.append(current)
            current["late_s"] = round(late, 3)
            current["gui"].append(sample.pop(names.get(self.gui_ident, str(self.gui_ident)), "?"))
            current["others"].append(sample)

    def report(self, over: float = 0.2) -> list[dict]:
        """Stalls over `over` s: how late, and the GUI thread's most seen stack with the other threads then."""
        out = []
        for stall in self.stalls:
            if stall["late_s"] < over:
                continue
            gui = max(set(stall["gui"]), key=stall["gui"].count)
            out.append({"at_s": stall["at_s"], "late_s": stall["late_s"], "samples": len(stall["gui"]),
                        "gui_thread": gui,
                        "others_at_first_sample": stall["others"][0]})
        return out


def prefill_library(items: int) -> None:
    """A library of `items` takes, as a user's after months of work: one real take, its row copied in SQL (the
    list and its searches read rows; one shared audio file is enough)."""
    import numpy as np

    from core.audio.clip import Clip
    from core.library.store import Library

    library = Library()
    library.add(Clip(np.zeros((16000, 1), np.float32), 16000), prompt="rain on a tin roof", mode="sound",
                model="prefill", licence="n/a", seed=1, settings={"prompt": "rain on a tin roof"})
    columns = ("prompt, negative_prompt, mode, settings, seed, model, licence, score, audio_path, sample_rate, "
               "seconds, created, kept, parent_id, operations")
    with library._lock, library._db:
        for _ in range(items - 1):
            library._db.execute(f"INSERT INTO items ({columns}) SELECT {columns} FROM items LIMIT 1")
    library.close()


def run(model: Path, minutes: float, seconds: float, steps: int, library_items: int = 0) -> dict:
    from PySide6.QtCore import Qt, QTimer

    from core import gc_policy
    from studio.app import make_application
    from studio.shell.main_window import MainWindow
    from studio.shell.settings import StudioSettings

    app = make_application(["bench"])
    if library_items:
        prefill_library(library_items)
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

    gaps, last, jobs, slow, pass_start, per_minute = [], [time.perf_counter()], [0], [], [0.0], {}

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
        per_minute[int((now - started) // 60)] = max(per_minute.get(int((now - started) // 60), 0.0), now - last[0])
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
    watch = StallWatch(last, threading.get_ident())
    watch.start()
    app.exec()
    watch.stop.set()
    gc.callbacks.remove(note_collection)
    elapsed = time.perf_counter() - started
    window.close()
    window.deleteLater()
    app.processEvents()
    gaps.sort()
    late = [g - TICK_MS / 1000 for g in gaps]
    return {"minutes": round(elapsed / 60, 2), "library_items_at_start": library_items,
            "generations_started": jobs[0], "ticks": len(gaps),
            "longest_gui_pause_s": round(max(late), 4), "p99_gui_pause_s": round(late[int(len(late) * 0.99)], 4),
            "longest_collection_s": round(gc_policy.longest_pause(), 4),
            "pauses_over_0_2_s": sum(1 for g in late if g > 0.2),
            # the first minutes hold the background compile (the tiny model's, beside the generations)
            "longest_gui_pause_s_per_minute": [round(per_minute[m] - TICK_MS / 1000, 3) for m in sorted(per_minute)],
            "collections_over_50_ms": slow,
            "stalls_over_0_2_s": watch.report()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a local AudioLDM 2 model folder")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each generation")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--library-items", type=int, default=0, help="start with a library of this many takes")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        for env in ("LOA_DATA_DIR", "LOA_CONFIG_DIR", "LOA_CACHE_DIR"):
            os.environ[env] = str(Path(home) / env.lower())
        result = run(args.model.resolve(), args.minutes, args.seconds, args.steps, args.library_items)
    print_and_save({"machine": platform.node(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "load_average": os.getloadavg(), **result}, args.out)


if __name__ == "__main__":
    main()
