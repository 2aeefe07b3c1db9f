"""A process that edits a clip through the real EditSession until it is killed (see test_editing_persistence.py).

Usage: python tests/editing_harness.py ROOT [background]. It prints the session folder, then `done N` after the
N-th edit returned, and keeps editing (up to MAX_EDITS) so a kill -9 lands in the middle of one. With
`background`, every edit's blocks are written behind it by the writer thread (as long clips' are), so the kill
can also land after an edit returned and before its blocks and row reached the disk.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.audio.clip import Clip  # noqa: E402
from core.editing import EditSession, Selection  # noqa: E402

MAX_EDITS = 400
RATE = 8000


def start_clip() -> Clip:
    rng = np.random.default_rng(5)
    return Clip((rng.standard_normal((RATE * 20, 2)) * 0.1).astype(np.float32), RATE)


def edit(i: int, frames: int) -> tuple[str, Selection, dict]:
    """The i-th edit of the deterministic script."""
    a = (i * 7919) % max(1, frames - 4000)
    kinds = [("gain", Selection(a, a + 3000), {"db": -1.0}), ("cut", Selection(a, a + 500), {}),
             ("paste", Selection.cursor(a), {}), ("fade_in", Selection(a, a + 800), {"curve": "s-curve"}),
             ("reverse", Selection(a, a + 1200), {}), ("silence", Selection(a, a + 100), {})]
    return kinds[i % len(kinds)]


def main() -> None:
    if sys.argv[2:] == ["background"]:
        from core.editing import writer

        writer.BACKGROUND_MIN_BYTES = 0
    session = EditSession.create(start_clip(), name="harness", root=Path(sys.argv[1]))
    print(session.folder, flush=True)
    for i in range(MAX_EDITS):
        name, sel, params = edit(i, session.clip.frames)
        session.apply(name, sel, **params)
        print(f"done {i + 1}", flush=True)


if __name__ == "__main__":
    main()
