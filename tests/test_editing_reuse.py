"""Undo and redo build the target version from the clip in memory where the two share references
(core.editing.reuse): the result must be bit for bit what reading every reference from disk gives, through
random walks of edits, undos and redos that fragment, gain, reverse and duplicate (paste) block ranges."""

import numpy as np
import pytest

from core.audio.clip import Clip
from core.editing import EditSession, Selection, reuse
from core.editing.blocks import Ref
from core.editing.session_db import row_refs


def random_edit(rng, frames):
    a = int(rng.integers(0, max(1, frames - 200)))
    sel = Selection(a, min(frames, a + int(rng.integers(1, 4000))))
    kind = int(rng.integers(0, 11))
    return [("cut", sel, {}), ("paste", Selection.cursor(a), {}), ("gain", sel, {"db": float(rng.uniform(-6, 6))}),
            ("gain", Selection(), {"db": -0.5}), ("reverse", sel, {}), ("reverse", Selection(), {}),
            ("silence", sel, {}), ("fade_in", sel, {"curve": "s-curve"}), ("delete", sel, {}),
            ("insert_silence", Selection.cursor(a), {"seconds": 0.01}), ("copy", sel, {})][kind]


@pytest.mark.parametrize("seed", range(4))
def test_undo_and_redo_from_memory_equal_reading_every_block(tmp_path, seed, monkeypatch):
    rng = np.random.default_rng(seed)
    samples = (rng.standard_normal((24_000, 2)) * 0.1).astype(np.float32)
    session = EditSession.create(Clip(samples, 48_000), name="walk", root=tmp_path)
    session.apply("copy", Selection(100, 900))
    copied = read = 0
    real_build = reuse.build

    def counting_build(store, target, frames, channels, current, current_samples):
        nonlocal copied, read
        for step in reuse.plan(target, current):
            if isinstance(step, reuse.Copy):
                copied += step.frames
            else:
                read += step.ref.frames
        return real_build(store, target, frames, channels, current, current_samples)

    monkeypatch.setattr(reuse, "build", counting_build)
    for _ in range(120):
        move = rng.random()
        if move < 0.3 and session.can_undo:
            session.undo()
        elif move < 0.45 and session.can_redo:
            session.redo()
        else:
            name, sel, params = random_edit(rng, session.clip.frames)
            session.apply(name, sel, **params)
        session.flush()
        row = session._version(session.position)
        from_disk = session.blocks.read(row_refs(row), row["frames"], row["channels"])
        assert np.array_equal(session.clip.samples.view(np.uint32), from_disk.view(np.uint32))
    assert copied > 2 * read  # most came from memory (undoing a whole-clip gain or reverse reads it all)


def test_the_plan_copies_shared_stretches_and_reads_only_the_rest():
    current = [Ref("a", 0, 100), Ref("b", 0, 50, (0.5,)), Ref("a", 150, 100)]
    target = [Ref("a", 0, 250)]  # undo of a 50-frame gain that replaced a[100:150]
    steps = reuse.plan(target, current)
    assert steps == [reuse.Copy(0, 0, 100), reuse.Read(100, Ref("a", 100, 50)), reuse.Copy(150, 150, 100)]
    # a reversed stretch matches only a reversed reference with the same gains, running the same way
    current = [Ref("a", 0, 100, (), True)]
    assert reuse.plan([Ref("a", 20, 30, (), True)], current) == [reuse.Copy(0, 50, 30)]
    assert reuse.plan([Ref("a", 20, 30)], current) == [reuse.Read(0, Ref("a", 20, 30))]
    assert reuse.plan([Ref("a", 20, 30, (0.5,), True)], current) == [reuse.Read(0, Ref("a", 20, 30, (0.5,), True))]
