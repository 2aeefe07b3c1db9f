"""EditSession's history: undo/redo round trips to identical arrays, and the shape each edit takes on disk."""

import numpy as np
import pytest

from core.audio.clip import Clip
from core.editing import EditSession, Selection
from core.editing.blocks import diff_span
from core.errors import InputError


def clip(frames=48000, channels=2, seed=0) -> Clip:
    rng = np.random.default_rng(seed)
    return Clip((rng.standard_normal((frames, channels)) * 0.1).astype(np.float32), 48000)


SCRIPT = [("cut", Selection(1000, 5000), {}), ("paste", Selection.cursor(20000), {}),
          ("gain", Selection(), {"db": 3.0}), ("fade_in", Selection(0, 4000), {"curve": "s-curve"}),
          ("normalize_loudness", Selection(), {"lufs": -20.0}), ("reverse", Selection(100, 30000), {}),
          ("trim", Selection(10, 40000), {}), ("to_mono", Selection(), {}), ("resample", Selection(), {"rate": 44100}),
          ("to_stereo", Selection(), {}), ("silence", Selection(100, 2000), {}),
          ("insert_silence", Selection.cursor(500), {"seconds": 0.1}), ("fade_out", Selection(), {}),
          ("normalize_peak", Selection(50, 900), {"dbfs": -3.0}), ("delete", Selection(0, 10), {})]


def test_every_operation_undoes_and_redoes_to_the_identical_array(tmp_path):
    session = EditSession.create(clip(), name="t", root=tmp_path)
    versions = [(session.clip.samples.copy(), session.clip.sample_rate)]
    for name, sel, params in SCRIPT:
        result = session.apply(name, sel, **params)
        assert result.did_change, name
        versions.append((session.clip.samples.copy(), session.clip.sample_rate))
    assert [s.label.split()[0] for s in session.history()[1:3]] == ["Cut", "Paste"]
    for samples, rate in reversed(versions[:-1]):
        undone = session.undo()
        assert undone.clip.sample_rate == rate and np.array_equal(undone.clip.samples, samples)
        assert undone.clip.samples.dtype == np.float32
    assert not session.can_undo
    with pytest.raises(InputError, match="Nothing to undo"):
        session.undo()
    for samples, rate in versions[1:]:
        assert np.array_equal(session.redo().clip.samples, samples)
    assert not session.can_redo


def test_undo_restores_the_selection_from_before_the_edit(tmp_path):
    session = EditSession.create(clip(), root=tmp_path)
    session.set_selection(Selection(100, 200))
    session.apply("cut")
    assert session.selection == Selection.cursor(100)
    assert session.undo().selection == Selection(100, 200)
    assert session.redo().selection == Selection.cursor(100)


def test_a_new_edit_after_undo_drops_the_redo_steps_and_their_blocks(tmp_path):
    session = EditSession.create(clip(), root=tmp_path)
    original_blocks = session.blocks.existing()
    session.apply("fade_in", Selection(0, 10000))
    gain_blocks = session.blocks.existing() - original_blocks
    assert len(gain_blocks) == 1
    session.undo()
    session.apply("reverse", Selection(0, 100))
    assert not session.can_redo and [s.operation["op"] for s in session.history()] == ["open", "reverse"]
    assert not gain_blocks & session.blocks.existing()  # nothing refers to them any more
    assert original_blocks <= session.blocks.existing()


def test_an_edit_stores_only_the_frames_it_changed(tmp_path):
    session = EditSession.create(clip(frames=480000), root=tmp_path)  # 10 s stereo: 3.84 MB
    first = session.disk_bytes()
    session.apply("cut", Selection(1000, 2000))
    session.apply("gain", Selection(5000, 6000), db=-3)
    session.apply("trim", Selection(100, 400000))  # kept frames are references, nothing rewritten
    assert session.disk_bytes() - first < 20000 * 4 * 2


def test_gains_store_a_factor_not_audio_and_replay_exactly(tmp_path):
    session = EditSession.create(clip(frames=480000), root=tmp_path)
    blocks = session.blocks.existing()
    versions = [session.clip.samples.copy()]
    for name, sel, params in [("gain", Selection(), {"db": -3.0}), ("normalize_peak", Selection(1000, 9000), {}),
                              ("gain", Selection(5000, 400000), {"db": 1.7}), ("cut", Selection(100, 200), {}),
                              ("normalize_loudness", Selection(), {"lufs": -30.0})]:
        session.apply(name, sel, **params)
        versions.append(session.clip.samples.copy())
    assert len(session.blocks.existing() - blocks) == 1  # only the cut's crossfaded join wrote audio
    session.close()
    reopened = EditSession.open(session.folder)
    assert np.array_equal(reopened.clip.samples, versions[-1])
    for expected in reversed(versions[:-1]):
        assert np.array_equal(reopened.undo().clip.samples, expected)


def test_reverses_store_no_audio_and_overlapping_ones_replay_exactly(tmp_path):
    session = EditSession.create(clip(frames=100000), root=tmp_path)
    blocks = session.blocks.existing()
    versions = [session.clip.samples.copy()]
    script = [("reverse", Selection(), {}), ("reverse", Selection(1000, 60000), {}),
              ("gain", Selection(500, 30000), {"db": 2.0}), ("reverse", Selection(20000, 90000), {}),
              ("trim", Selection(10, 95000), {}), ("reverse", Selection(5, 94000), {}),
              ("paste", Selection.cursor(40000), {"pasted": clip(frames=777, seed=3)}),
              ("reverse", Selection(39000, 41000), {})]
    for name, sel, params in script:
        session.apply(name, sel, **params)
        versions.append(session.clip.samples.copy())
    assert len(session.blocks.existing() - blocks) == 1  # the paste; reverses, gains and trims wrote nothing
    session.close()
    reopened = EditSession.open(session.folder)
    assert np.array_equal(reopened.clip.samples, versions[-1])
    for expected in reversed(versions[:-1]):
        assert np.array_equal(reopened.undo().clip.samples, expected)
    for expected in versions[1:]:
        assert np.array_equal(reopened.redo().clip.samples, expected)


def test_commit_records_an_outside_result_by_its_difference(tmp_path):
    session = EditSession.create(clip(), root=tmp_path)
    new = session.clip.samples.copy()
    new[3000:3100] = 0.0
    result = session.commit(Clip(new, 48000), operation={"op": "transform", "prompt": "metal"})
    assert (result.changed.start, result.changed.old_end, result.changed.new_end) == (3000, 3100, 3100)
    assert session.history()[-1].label == "Transform selection"
    assert np.array_equal(session.undo().clip.samples, clip().samples)


def test_diff_span_is_bitwise_and_handles_length_changes():
    a = np.arange(40, dtype=np.float32).reshape(20, 2)
    b = np.concatenate([a[:5], a[9:]])
    assert diff_span(a, b) == (5, 9, 5)
    assert diff_span(a, a.copy()) == (20, 20, 20)
    c = a.copy()
    c[0, 0] = -0.0  # 0.0 -> -0.0 is a change
    assert diff_span(a, c)[0] == 0


def test_unsaved_edits_flag(tmp_path):
    session = EditSession.create(clip(), root=tmp_path)
    assert not session.has_unsaved_edits
    session.apply("reverse", Selection(0, 10))
    assert session.has_unsaved_edits
    session.mark_saved(library_id=9)
    assert not session.has_unsaved_edits
    session.apply("reverse", Selection(0, 10))
    assert session.has_unsaved_edits


def test_session_settings_crossfade_and_zero_crossing_snap(tmp_path):
    t = np.arange(48000) / 48000
    tone = Clip(np.sin(2 * np.pi * 100 * t).astype(np.float32), 48000)  # crossings every 240 frames
    session = EditSession.create(tone, root=tmp_path)
    session.join_crossfade = 0.0
    session.snap_zero_crossings = True
    result = session.apply("cut", Selection(1000, 2000))
    assert result.operation["start"] == 960 and result.operation["end"] == 1920  # snapped
    assert result.operation["crossfade"] == 0.0
    assert np.array_equal(session.clip.samples, np.concatenate([tone.samples[:960], tone.samples[1920:]]))


def test_history_labels_for_edits_made_elsewhere(tmp_path):
    session = EditSession.create(clip(), root=tmp_path)
    changed = session.clip.samples.copy()
    changed[:10] = 0
    session.commit(Clip(changed, 48000), operation={"op": "transform", "strength": 0.4, "prompt": "metal"})
    assert session.history()[-1].label == "Transform selection (0.4)"


def test_a_session_can_hold_an_empty_clip_after_cutting_everything(tmp_path):
    session = EditSession.create(clip(frames=10), root=tmp_path)
    session.apply("cut", Selection(0, 10))
    assert session.clip.frames == 0
    session.apply("paste", Selection.cursor(0))
    assert np.array_equal(session.clip.samples, clip(frames=10).samples)
    session.close()
    reopened = EditSession.open(session.folder)
    assert reopened.undo().clip.frames == 0


def test_slicing_and_merging_reversed_references():
    from core.editing.blocks import Ref, merge_refs, reverse_refs, slice_refs

    forward = [Ref("a", 10, 100)]
    backward = reverse_refs(forward)
    assert backward == [Ref("a", 10, 100, (), True)]
    # Sequence frames 0..20 of the reversed piece are block frames 90..110, read backwards.
    assert slice_refs(backward, 0, 20) == [Ref("a", 90, 20, (), True)]
    assert merge_refs(slice_refs(backward, 0, 20) + slice_refs(backward, 20, 100)) == backward
    assert Ref.from_list(Ref("a", 1, 2, (0.5,), True).to_list()) == Ref("a", 1, 2, (0.5,), True)
    assert Ref.from_list(["a", 1, 2]) == Ref("a", 1, 2)
