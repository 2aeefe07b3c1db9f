import time

import numpy as np
import pytest

from core.audio.overview import Overview


def brute_force(samples, starts, per_column, end):
    lo = np.stack([samples[s:min(s + per_column, end if s + per_column > end else s + per_column)].min(axis=0)
                   for s in starts])
    hi = np.stack([samples[s:min(s + per_column, end)].max(axis=0) for s in starts])
    return lo, hi


@pytest.fixture(scope="module")
def stereo():
    rng = np.random.default_rng(1)
    return rng.standard_normal((200_003, 2)).astype(np.float32)


def test_levels_shrink_by_the_factor_down_to_a_few_blocks(stereo):
    overview = Overview(stereo, base=16, factor=4)
    assert overview.block_sizes[:3] == [16, 64, 256]
    assert len(overview.mins[0]) == -(-200_003 // 16)
    assert len(overview.mins[-1]) <= 4
    assert overview.mins[-1].min(axis=0) == pytest.approx(stereo.min(axis=0))
    assert overview.maxs[-1].max(axis=0) == pytest.approx(stereo.max(axis=0))


@pytest.mark.parametrize("start, end, width", [(0, 200_003, 800), (12_345, 150_000, 1000), (5, 9_000, 333),
                                               (199_000, 200_003, 100), (1000, 1700, 300)])
def test_columns_match_brute_force_min_max_and_stay_within_the_width(stereo, start, end, width):
    view = Overview(stereo).columns(start, end, width)
    assert not view.raw
    assert len(view) <= width + 2
    assert view.frames_per_column >= (end - start) / width
    assert view.starts[0] <= start < view.starts[0] + view.frames_per_column
    assert view.starts[-1] < end <= view.starts[-1] + view.frames_per_column
    stop = len(stereo)
    lo = np.stack([stereo[s:min(s + view.frames_per_column, stop)].min(axis=0) for s in view.starts])
    hi = np.stack([stereo[s:min(s + view.frames_per_column, stop)].max(axis=0) for s in view.starts])
    np.testing.assert_array_equal(view.mins, lo)
    np.testing.assert_array_equal(view.maxs, hi)


def test_zoomed_in_past_one_frame_per_column_gives_raw_samples(stereo):
    view = Overview(stereo).columns(100, 400, 1000)
    assert view.raw and len(view) == 300
    x, y = view.line(channel=1)
    np.testing.assert_array_equal(x, np.arange(100, 400))
    np.testing.assert_array_equal(y, stereo[100:400, 1])


def test_line_zigzags_between_min_and_max(stereo):
    view = Overview(stereo).columns(0, len(stereo), 500)
    x, y = view.line(0)
    assert len(x) == len(y) == 2 * len(view)
    np.testing.assert_array_equal(y[0::2], view.mins[:, 0])
    np.testing.assert_array_equal(y[1::2], view.maxs[:, 0])
    assert np.all(np.diff(x) >= 0)


def test_ranges_are_clipped_to_the_clip(stereo):
    view = Overview(stereo).columns(-500, 10**9, 100)
    assert view.starts[0] == 0 and view.starts[-1] < len(stereo)
    assert len(Overview(stereo).columns(50, 50, 100)) == 0


def test_mono_input_and_short_clips():
    overview = Overview(np.array([0.1, -0.2, 0.3], dtype=np.float32))
    assert overview.channels == 1 and overview.levels == 1
    view = overview.columns(0, 3, 2)
    assert view.mins[:, 0].min() == pytest.approx(-0.2) and view.maxs[:, 0].max() == pytest.approx(0.3)


def test_six_minute_stereo_overview_draws_a_bounded_number_of_columns_at_every_zoom():
    frames = 6 * 60 * 44_100
    samples = np.random.default_rng(0).uniform(-1, 1, (frames, 2)).astype(np.float32)
    began = time.perf_counter()
    overview = Overview(samples)
    built = time.perf_counter() - began
    for span in (frames, frames // 10, 44_100, 4_410, 500):
        view = overview.columns(frames // 3, frames // 3 + span, 1500)
        assert len(view) <= 1502
    print(f"overview of 6 min stereo built in {built:.2f} s")
