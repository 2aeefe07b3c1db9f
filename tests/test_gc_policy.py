"""core.gc_policy: one collector thread, the interpreter's thresholds, and loaded models frozen out of the passes."""

import gc
import threading

from core import gc_policy


def test_a_loaded_model_is_frozen_out_of_later_collection_passes(tiny_model_dir):
    from core.generation.engine import Engine

    engine = Engine(tiny_model_dir, device="cpu")
    before = gc.get_freeze_count()
    pipe = engine.load()
    assert gc.get_freeze_count() > before
    assert not any(o is pipe.unet for o in gc.get_objects())  # a full pass no longer walks the model
    engine.unload()


def test_collect_due_follows_the_thresholds_on_the_calling_thread():
    enabled = gc.isenabled()
    gc_policy.take_over()
    collected_on = []

    def note(phase, info):
        if phase == "start":
            collected_on.append((threading.get_ident(), info["generation"]))

    gc.callbacks.append(note)
    try:
        gc.collect()  # counts start from zero
        assert gc_policy.collect_due() == 0.0 and collected_on[1:] == []  # nothing due yet
        def allocate_cycles():  # what a job thread does while building a model: many container objects
            for _ in range(gc.get_threshold()[0] * 3):
                cycle = []
                cycle.append(cycle)

        worker = threading.Thread(target=allocate_cycles)
        worker.start()
        worker.join()
        assert len(collected_on) == 1  # the worker allocated far past the threshold and never collected
        assert gc_policy.collect_due() > 0.0
        assert collected_on[1:] == [(threading.get_ident(), 0)]  # the young generation, here
        assert gc_policy.longest_pause() > 0.0
    finally:
        gc.callbacks.remove(note)
        if enabled:
            gc.enable()
