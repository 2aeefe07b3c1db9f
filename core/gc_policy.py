"""One garbage-collection policy for the window, the CLI and the tests.

Python's cycle collector runs in whichever thread allocates past a threshold. In the window that could be a job
thread, and a pass there destroyed dead widgets' Qt objects off the GUI thread (a segfault seen in CI). So:

- automatic collection is off while the window (or the test run) is up (`take_over`);
- one thread collects: the GUI thread on a timer, the test runner's main thread after each test (`collect_due`,
  with the interpreter's own thresholds: the young generation often, a full pass rarely);
- what is alive after start-up and after each model load is frozen out of later passes (`freeze`: a loaded
  model, with the libraries its first load imports, is ~500 000 long-lived objects that a pass would otherwise
  walk), and no pass runs while a model loads (`loading`: they would walk that burst just before it is frozen).

`longest_pause()` is the longest collection so far (seconds), for the benchmark that measures the GUI thread.
The CLI keeps automatic collection (no widgets, one thread does the work); it freezes after a model load too.
"""

from __future__ import annotations

import gc
import threading
import time
from contextlib import contextmanager
from typing import Iterator

_longest = 0.0
_loading = 0
_loading_lock = threading.Lock()


def take_over() -> None:
    """Automatic collection off: `collect_due` is called from the one thread allowed to collect."""
    gc.disable()


def collect_due() -> float:
    """Collect what the interpreter's thresholds say is due (generation 0, 1 or a full pass), as automatic
    collection would, but on the calling thread; return the seconds it took."""
    global _longest
    (t0, t1, t2), (c0, c1, c2) = gc.get_threshold(), gc.get_count()
    if c0 <= t0 or _loading:
        return 0.0
    generation = 2 if (c1 > t1 and c2 > t2) else 1 if c1 > t1 else 0
    start = time.perf_counter()
    gc.collect(generation)
    spent = time.perf_counter() - start
    _longest = max(_longest, spent)
    return spent


@contextmanager
def loading() -> Iterator[None]:
    """Around a model load (any thread): no collection pass until it ends, then everything alive is frozen."""
    global _loading
    with _loading_lock:
        _loading += 1
    try:
        yield
    finally:
        with _loading_lock:
            _loading -= 1
        freeze()


def freeze() -> None:
    """Move every object alive now out of the collector's sight (gc.freeze): after start-up and after a model
    load. It collects nothing, so any thread may call it."""
    gc.freeze()


def longest_pause() -> float:
    return _longest


def reset_longest_pause() -> None:
    global _longest
    _longest = 0.0
