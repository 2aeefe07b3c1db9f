"""Every editing operation, sample for sample, with the edge cases (empty selection, clip edges, one sample)."""

import numpy as np
import pytest

from core.audio.clip import Clip, resample
from core.audio.seams import equal_power_crossfade
from core.editing import Selection, convert, fades, gain, snap_to_zero_crossings, splice
from core.errors import InputError

RATE = 1000  # 1 kHz keeps arrays small; a 10 ms crossfade is 10 frames


def ramp(frames=100, channels=2) -> Clip:
    """Distinct values everywhere: frame i, channel c holds (i + 1) / 1000 * (1 if c == 0 else -1)."""
    base = (np.arange(frames, dtype=np.float32) + 1) / 1000
    return Clip(np.stack([base, -base][:channels], axis=1), RATE)


def test_cut_removes_exactly_the_selection_without_crossfade():
    clip = ramp()
    result = splice.cut(clip, Selection(10, 30), crossfade=0)
    expected = np.concatenate([clip.samples[:10], clip.samples[30:]])
    assert np.array_equal(result.clip.samples, expected)
    assert np.array_equal(result.clipboard.samples, clip.samples[10:30])
    assert result.selection == Selection.cursor(10)
    assert result.changed.start == 10 and result.changed.old_end == 30 and result.changed.new_end == 10


def test_cut_crossfades_the_join_equal_power_around_it():
    clip = ramp()
    result = splice.cut(clip, Selection(40, 60))  # default 10 ms = 10 frames -> 5 either side of the join
    x = clip.samples
    expected = np.concatenate([x[:40], x[60:]])
    expected[35:45] = equal_power_crossfade(x[35:45], x[55:65])
    assert np.array_equal(result.clip.samples, expected)
    assert result.clip.frames == 80
    assert np.array_equal(result.clip.samples[:35], x[:35]) and np.array_equal(result.clip.samples[45:], x[65:])


def test_delete_matches_cut_but_leaves_no_clipboard():
    clip = ramp()
    cut, deleted = splice.cut(clip, Selection(5, 50)), splice.delete(clip, Selection(5, 50))
    assert np.array_equal(cut.clip.samples, deleted.clip.samples)
    assert deleted.clipboard is None


@pytest.mark.parametrize("sel", [Selection(0, 20), Selection(80, 100), Selection(0, 100)])
def test_cut_at_the_very_start_end_and_whole_clip(sel):
    clip = ramp()
    result = splice.cut(clip, sel)
    keep = np.concatenate([clip.samples[:sel.start], clip.samples[sel.end:]])
    assert np.array_equal(result.clip.samples, keep)  # nothing on one side: no crossfade
    assert result.clip.frames == 100 - sel.length


def test_empty_selection_changes_nothing_and_says_so():
    clip = ramp()
    for op in (splice.cut, splice.delete, splice.copy, splice.trim, splice.silence):
        result = op(clip, Selection.cursor(30))
        assert not result.did_change and result.clip is clip and "Nothing selected" in result.note


def test_copy_returns_the_selection_and_keeps_the_clip():
    clip = ramp()
    result = splice.copy(clip, Selection(3, 9))
    assert np.array_equal(result.clipboard.samples, clip.samples[3:9]) and result.clip is clip


def test_paste_at_cursor_inserts_exactly_with_inner_crossfades():
    clip, pasted = ramp(), Clip(np.full((30, 2), 0.5, np.float32), RATE)
    result = splice.paste(clip, Selection.cursor(50), pasted)
    x = clip.samples
    region = pasted.samples.copy()
    region[:10] = equal_power_crossfade(x[50:60], region[:10])
    region[-10:] = equal_power_crossfade(region[-10:], x[40:50])
    assert np.array_equal(result.clip.samples, np.concatenate([x[:50], region, x[50:]]))
    assert result.selection == Selection(50, 80)


def test_paste_replaces_the_selection_and_is_bit_exact_outside_it():
    clip, pasted = ramp(), Clip(np.full((7, 2), 0.25, np.float32), RATE)
    result = splice.paste(clip, Selection(20, 60), pasted, crossfade=0)
    assert np.array_equal(result.clip.samples, np.concatenate([clip.samples[:20], pasted.samples,
                                                               clip.samples[60:]]))


def test_paste_of_another_rate_and_channel_count_is_converted_with_a_note():
    clip = ramp(200, 2)
    pasted = Clip(np.linspace(-0.5, 0.5, 100, dtype=np.float32), 500)  # mono, 500 Hz
    result = splice.paste(clip, Selection.cursor(0), pasted, crossfade=0)
    expected = np.repeat(resample(pasted.samples, 500, RATE), 2, axis=1)
    assert result.clip.frames == 200 + expected.shape[0] == 400
    assert np.array_equal(result.clip.samples[:200], expected)
    assert np.array_equal(result.clip.samples[200:], clip.samples)
    assert "500 Hz to 1000 Hz" in result.note and "mono to stereo" in result.note
    stereo_into_mono = splice.paste(ramp(50, 1), Selection.cursor(50), ramp(10, 2), crossfade=0)
    assert np.array_equal(stereo_into_mono.clip.samples[50:, 0], ramp(10, 2).samples.mean(axis=1))
    assert "stereo to mono" in stereo_into_mono.note


def test_trim_keeps_only_the_selection():
    clip = ramp()
    result = splice.trim(clip, Selection(10, 25))
    assert np.array_equal(result.clip.samples, clip.samples[10:25]) and result.selection == Selection(0, 15)
    assert not splice.trim(clip, Selection(0, 100)).did_change


def test_insert_silence_and_silence_selection():
    clip = ramp()
    inserted = splice.insert_silence(clip, Selection.cursor(100), 0.02, crossfade=0)  # at the very end
    assert np.array_equal(inserted.clip.samples, np.concatenate([clip.samples, np.zeros((20, 2), np.float32)]))
    silenced = splice.silence(clip, Selection(10, 40), crossfade=0)
    expected = clip.samples.copy()
    expected[10:40] = 0
    assert np.array_equal(silenced.clip.samples, expected)
    faded = splice.silence(clip, Selection(10, 40))  # default crossfade: fades out/in inside the selection
    assert np.array_equal(faded.clip.samples[:10], clip.samples[:10])
    assert np.array_equal(faded.clip.samples[40:], clip.samples[40:])
    assert np.all(faded.clip.samples[20:30] == 0) and np.all(np.abs(faded.clip.samples[10:20]) > 0)
    with pytest.raises(InputError):
        splice.insert_silence(clip, Selection(), 0)


def test_silence_at_the_clips_edges_has_no_crossfade_nothing_is_joined_there():
    clip = ramp()
    zeros = np.zeros((20, 2), np.float32)
    appended = splice.insert_silence(clip, Selection.cursor(100), 0.02)  # default 10 ms crossfade
    assert np.array_equal(appended.clip.samples, np.concatenate([clip.samples, zeros]))
    prepended = splice.insert_silence(clip, Selection.cursor(0), 0.02)
    assert np.array_equal(prepended.clip.samples, np.concatenate([zeros, clip.samples]))
    head = splice.silence(clip, Selection(0, 40)).clip.samples
    assert not head[:30].any() and np.array_equal(head[40:], clip.samples[40:])
    tail = splice.silence(clip, Selection(60, 100)).clip.samples
    assert not tail[70:].any() and np.array_equal(tail[:60], clip.samples[:60])


@pytest.mark.parametrize("curve", ["linear", "exponential", "logarithmic", "s-curve"])
def test_fade_curves_start_at_zero_end_at_one_and_rise(curve):
    gains = fades.fade_gains(50, curve)
    assert gains[0] == 0 and gains[-1] == pytest.approx(1.0) and np.all(np.diff(gains) > 0)


def test_fade_shapes_differ_as_named():
    lin, exp, log, s = (fades.fade_gains(101, c)[50] for c in ("linear", "exponential", "logarithmic", "s-curve"))
    assert lin == pytest.approx(0.5) and s == pytest.approx(0.5)
    assert exp < 0.05 and log > 0.85  # exponential starts slow, logarithmic fast


def test_fade_in_and_out_over_the_selection_exactly():
    clip = ramp()
    result = fades.fade_in(clip, Selection(10, 20), curve="linear")
    expected = clip.samples.copy()
    expected[10:20] *= np.linspace(0, 1, 10, dtype=np.float32)[:, None]
    assert np.array_equal(result.clip.samples, expected)
    out = fades.fade_out(clip, Selection(), curve="s-curve")  # nothing selected: the whole clip
    gains = fades.fade_gains(100, "s-curve")[::-1]
    assert np.array_equal(out.clip.samples, clip.samples * gains[:, None])
    assert out.clip.samples[-1, 0] == 0


def test_fade_longer_than_the_selection_covers_the_selection_with_a_note():
    clip = ramp()
    result = fades.fade_out(clip, Selection(90, 95), seconds=0.5)  # 500 frames asked, 5 selected
    expected = clip.samples.copy()
    expected[90:95] *= np.linspace(1, 0, 5, dtype=np.float32)[:, None]
    assert np.array_equal(result.clip.samples, expected) and "shorter than" in result.note
    short = fades.fade_in(clip, Selection(0, 50), seconds=0.01)  # 10 frames of a 50-frame selection
    assert np.array_equal(short.clip.samples[10:], clip.samples[10:])


def test_gain_and_peak_normalisation():
    clip = ramp()
    up = gain.gain(clip, Selection(0, 10), 6.0)
    factor = np.float32(10 ** (6 / 20))
    assert np.array_equal(up.clip.samples[:10], clip.samples[:10] * factor)
    assert np.array_equal(up.clip.samples[10:], clip.samples[10:])
    norm = gain.normalize_peak(clip, Selection(), -6.0)
    assert np.abs(norm.clip.samples).max() == pytest.approx(10 ** (-6 / 20), rel=1e-6)
    loud = gain.gain(Clip(np.full((10, 1), 0.5, np.float32), RATE), Selection(), 12.0)
    assert "above full scale" in loud.note
    silent = gain.normalize_peak(Clip(np.zeros((10, 1), np.float32), RATE), Selection())
    assert not silent.did_change and "silent" in silent.note


def noise_clip(seconds=3.0, rate=48000, level=0.05, seed=1) -> Clip:
    rng = np.random.default_rng(seed)
    return Clip((rng.standard_normal((int(seconds * rate), 2)) * level).astype(np.float32), rate)


def test_loudness_normalisation_reaches_the_target():
    clip = noise_clip()
    result = gain.normalize_loudness(clip, Selection(), lufs=-23.0, true_peak_limit=-1.0)
    assert gain.integrated_loudness(result.clip.samples, clip.sample_rate) == pytest.approx(-23.0, abs=0.05)
    assert result.note == ""


def test_loudness_normalisation_stops_at_the_true_peak_limit():
    clip = noise_clip(level=0.1)
    result = gain.normalize_loudness(clip, Selection(), lufs=-5.0, true_peak_limit=-1.0)
    tp_db = 20 * np.log10(gain.true_peak(result.clip.samples, clip.sample_rate))
    assert tp_db <= -1.0 + 0.01 and "not -5" in result.note
    assert np.abs(result.clip.samples).max() < 1.0
    with pytest.raises(InputError, match="at least 0.4 s"):
        gain.normalize_loudness(clip, Selection(0, 1000))


def test_reverse_selection():
    clip = ramp()
    result = convert.reverse(clip, Selection(10, 20))
    assert np.array_equal(result.clip.samples[10:20], clip.samples[10:20][::-1])
    assert np.array_equal(result.clip.samples[20:], clip.samples[20:])


def test_resample_and_channel_conversions():
    clip = ramp(1000, 2)
    result = convert.resample_clip(clip, Selection(100, 200), 2000)
    assert result.clip.sample_rate == 2000 and result.clip.frames == 2000 and result.selection == Selection(200, 400)
    assert np.array_equal(result.clip.samples, resample(clip.samples, RATE, 2000))
    mono = convert.to_mono(clip, Selection())
    assert np.array_equal(mono.clip.samples[:, 0], clip.samples.mean(axis=1))
    stereo = convert.to_stereo(mono.clip, Selection())
    assert stereo.clip.channels == 2 and np.array_equal(stereo.clip.samples[:, 1], mono.clip.samples[:, 0])
    assert not convert.to_mono(mono.clip, Selection()).did_change
    with pytest.raises(InputError):
        convert.resample_clip(clip, Selection(), 10)


def test_one_sample_clip_survives_every_operation():
    clip = Clip(np.array([[0.5, -0.5]], np.float32), RATE)
    whole = Selection(0, 1)
    assert splice.cut(clip, whole).clip.frames == 0
    assert not splice.trim(clip, whole).did_change  # trimming to the whole clip keeps everything
    assert splice.paste(clip, Selection.cursor(1), clip).clip.frames == 2
    assert np.array_equal(fades.fade_in(clip, whole).clip.samples, np.zeros((1, 2), np.float32))
    half = gain.gain(clip, whole, -6.0206).clip.samples[0]
    assert np.array_equal(half, clip.samples[0] * np.float32(10 ** (-6.0206 / 20)))
    assert np.array_equal(convert.reverse(clip, whole).clip.samples, clip.samples)
    assert splice.insert_silence(clip, Selection.cursor(0), 0.001).clip.frames == 2


def test_snapping_moves_edges_to_zero_crossings():
    t = np.arange(RATE) / RATE
    clip = Clip(np.sin(2 * np.pi * 10 * t).astype(np.float32), RATE)  # crossings every 50 frames
    snapped = snap_to_zero_crossings(clip, Selection(47, 203))
    assert snapped == Selection(50, 200)
    assert snap_to_zero_crossings(clip, Selection.cursor(98)) == Selection.cursor(100)
    far = snap_to_zero_crossings(clip, Selection(25, 25), max_seconds=0.002)  # none within 2 frames
    assert far == Selection.cursor(25)


def test_selection_normalises_reversed_and_negative_edges():
    assert Selection(30, 10) == Selection(10, 30)
    assert Selection(-5, 3) == Selection(0, 3)
    assert Selection(10, 300).clamped(100) == Selection(10, 100)
    assert Selection.from_seconds(0.5, 1.0, 48000) == Selection(24000, 48000)


def test_loudness_of_audio_below_the_gate_or_with_no_known_layout():
    quiet = noise_clip(level=1e-5)  # about -97 LUFS: below BS.1770's -70 LUFS absolute gate
    result = gain.normalize_loudness(quiet, Selection())
    assert not result.did_change and "gate" in result.note
    seven = Clip(np.zeros((48000, 7), np.float32), 48000)  # 5.1 and 7.1 are measured (tests/test_downmix.py)
    with pytest.raises(InputError, match="needs a known channel layout"):
        gain.normalize_loudness(seven, Selection())


@pytest.mark.parametrize("curve", sorted(fades.CURVES))
@pytest.mark.parametrize("frames", [2, 101, 48_000])
def test_every_fade_ends_at_exactly_unity_and_full_scale_stays_full_scale(curve, frames):
    """float32 exp(ln 1000) is 1000.0001: the exponential fade in once ended at 1.0000001 (over 0 dBFS)."""
    rising = fades.fade_gains(frames, curve)
    assert rising[0] == 0.0 and rising[-1] == np.float32(1.0) and rising.max() <= 1.0
    assert fades.fade_gains(frames, curve, falling=True)[0] == np.float32(1.0)
    clip = Clip(np.ones((frames, 2), np.float32), RATE)
    faded = fades.fade_in(clip, Selection(0, frames), curve=curve).clip.samples
    assert faded.max() == np.float32(1.0) and faded[-1, 0] == np.float32(1.0)
