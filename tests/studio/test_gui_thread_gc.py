"""The cycle collector runs only on the GUI thread while the app runs: a job thread that triggered it could
destroy dead widgets' Qt objects off the GUI thread and crash the process (a segfault seen in CI)."""

import gc
import threading


def test_a_job_thread_never_runs_the_cycle_collector(qapp, qtbot):
    from studio.app import collect_garbage_on_the_gui_thread

    gc.enable()  # the interpreter's state when the app starts
    collect_garbage_on_the_gui_thread(qapp)
    assert not gc.isenabled()

    collected_on = []

    def note(phase, info):
        if phase == "start":
            collected_on.append(threading.get_ident())

    def allocate_cycles():  # what a job thread does while building a model: lots of container objects
        for _ in range(50_000):
            cycle = []
            cycle.append(cycle)

    gc.callbacks.append(note)
    try:
        worker = threading.Thread(target=allocate_cycles)
        worker.start()
        worker.join()
        assert collected_on == []  # the worker allocated far past the threshold and never collected
        qtbot.waitUntil(lambda: bool(collected_on), timeout=5000)  # the GUI thread's timer did
        assert set(collected_on) == {threading.get_ident()}
    finally:
        gc.callbacks.remove(note)
