import threading
import time

import numpy as np
import pytest
from audio_services import require_pulse
from PySide6.QtCore import QPoint, Qt

from core.audio.clip import Clip
from core.audio.spectrogram import spectrogram_db
from studio.waveform.time_ruler import format_time
from studio.waveform.waveform_view import LANE_HEIGHT, MAX_COLUMNS, WaveformView


def noise_clip(seconds, rate=44_100, channels=2, seed=0):
    rng = np.random.default_rng(seed)
    return Clip(rng.uniform(-0.9, 0.9, (int(seconds * rate), channels)).astype(np.float32), rate)


@pytest.fixture
def view(qtbot):
    widget = WaveformView()
    qtbot.addWidget(widget)
    widget.resize(900, 240)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def plot_point(view, seconds, lane_y=0.0):
    """Widget coordinates of (seconds, y) inside the plot's viewport."""
    scene = view._box.mapViewToScene(pg_point(seconds, lane_y))
    return view.plot.mapFromScene(scene)


def pg_point(x, y):
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def test_a_stereo_clip_shows_two_lanes_over_the_whole_clip(view):
    clip = noise_clip(2.0)
    view.set_clip(clip)
    assert len(view._curves) == 2
    low, high = view.view_range()
    assert low == pytest.approx(0.0, abs=1e-6) and high == pytest.approx(2.0, abs=1e-6)
    x, y = view._curves[1].getData()
    assert y.max() <= 1.0 - LANE_HEIGHT + 1e-6 and y.min() >= -1.0 - LANE_HEIGHT - 1e-6  # second lane below
    assert 0 < view.drawn_point_count() <= 2 * 2 * (MAX_COLUMNS + 2)
    # The min/max columns keep the true extremes visible.
    assert view._curves[0].getData()[1].max() == pytest.approx(clip.samples[:, 0].max(), abs=1e-6)


@pytest.mark.parametrize("seconds, spacing, text", [(2.5, 0.5, "2.5"), (0.125, 0.005, "0.125"), (3.0, 1.0, "3"),
                                                   (125.0, 30.0, "2:05"), (61.25, 0.25, "1:01.25"),
                                                   (300.0, 60.0, "5:00")])
def test_the_time_ruler_reads_in_seconds_or_minutes(seconds, spacing, text):
    assert format_time(seconds, spacing) == text


def test_the_ruler_labels_a_six_minute_view_in_minutes(view):
    view.set_clip(Clip(np.zeros((360 * 1000, 1), np.float32), 1000))
    axis = view.plot.getPlotItem().getAxis("bottom")
    assert axis.tickStrings([50.0, 100.0], 1.0, 50.0) == ["0:50", "1:40"]
    # the minor ticks of that view too: one style along the ruler, not "10, 0:20, 30"
    assert axis.tickStrings([10.0, 20.0], 1.0, 10.0) == ["0:10", "0:20"]
    view.set_clip(Clip(np.zeros((30 * 1000, 1), np.float32), 1000))
    assert axis.tickStrings([10.0, 20.0], 1.0, 10.0) == ["10", "20"]  # a half-minute view reads in seconds


def test_zooming_in_deep_draws_the_raw_samples(view):
    clip = noise_clip(1.0)
    view.set_clip(clip)
    view.set_view(0.5, 0.5 + 200 / 44_100)
    x, y = view._curves[0].getData()
    first = int(round(x[0] * 44_100))
    np.testing.assert_allclose(y, clip.samples[first:first + len(y), 0], atol=1e-6)
    assert 200 <= len(y) <= 202


def test_zoom_and_scroll_stay_inside_the_clip(view):
    view.set_clip(noise_clip(4.0))
    view.zoom(4.0)
    low, high = view.view_range()
    assert high - low == pytest.approx(1.0, rel=1e-3) and low == pytest.approx(1.5, rel=1e-3)
    view.scroll(10.0)
    assert view.view_range()[1] == pytest.approx(4.0, rel=1e-6)
    view.zoom(1e9)  # no deeper than MIN_VIEW_FRAMES samples
    low, high = view.view_range()
    assert (high - low) * 44_100 == pytest.approx(64, rel=0.01)
    view.fit()
    assert view.view_range() == pytest.approx((0.0, 4.0), abs=1e-6)


def test_keys_zoom_scroll_and_fit(view, qtbot):
    view.set_clip(noise_clip(4.0))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    assert view.view_range()[1] - view.view_range()[0] == pytest.approx(2.0, rel=1e-3)
    before = view.view_range()[0]
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.view_range()[0] == pytest.approx(before + 0.2, rel=1e-3)
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.view_range()[0] == pytest.approx(0.0, abs=1e-6)
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert view.view_range() == pytest.approx((0.0, 4.0), abs=1e-6)


def test_wheel_zooms_time_only(view, qtbot):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    view.set_clip(noise_clip(4.0))
    y_before = view._box.viewRange()[1]
    where = QPointF(plot_point(view, 1.0))
    viewport = view.plot.viewport()
    event = QWheelEvent(where, viewport.mapToGlobal(where), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)
    low, high = view.view_range()
    assert high - low < 3.0 and low <= 1.0 <= high
    assert view._box.viewRange()[1] == pytest.approx(y_before)


def test_dragging_with_the_mouse_selects_a_range_and_emits_it(view, qtbot):
    view.set_clip(noise_clip(4.0))
    got = []
    view.selection_changed.connect(got.append)
    viewport = view.plot.viewport()
    start, end = plot_point(view, 1.0), plot_point(view, 2.5)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 11):
        qtbot.mouseMove(viewport, start + (end - start) * step / 10)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    selection = view.selection()
    assert selection is not None
    assert selection[0] == pytest.approx(1.0, abs=0.02) and selection[1] == pytest.approx(2.5, abs=0.02)
    assert got and got[-1] == selection


def test_selection_api_orders_clamps_and_clears(view):
    view.set_clip(noise_clip(2.0))
    got = []
    view.selection_changed.connect(got.append)
    view.set_selection(1.5, -3.0)
    assert view.selection() == (0.0, 1.5)
    view._region.setRegion((0.25, 0.75))  # the user dragging the region's edges
    assert view.selection() == pytest.approx((0.25, 0.75))
    view.clear_selection()
    assert view.selection() is None and got[-1] is None
    view.set_clip(noise_clip(1.0))
    assert view.selection() is None


def test_a_click_moves_the_playhead_and_asks_to_seek(view, qtbot):
    view.set_clip(noise_clip(4.0))
    with qtbot.waitSignal(view.seek_requested) as blocker:
        qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=plot_point(view, 3.0))
    assert blocker.args[0] == pytest.approx(3.0, abs=0.02)
    assert view.playhead() == pytest.approx(3.0, abs=0.02)
    view.set_playhead(99.0)
    assert view.playhead() == pytest.approx(4.0)


def test_amplitude_zoom_magnifies_quiet_clips_and_clips_at_the_lane(view, qtbot):
    quiet = Clip(noise_clip(1.0, channels=1).samples * 0.01, 44_100)
    view.set_clip(quiet)
    assert np.abs(view._curves[0].getData()[1]).max() < 0.01
    view.setFocus()
    for _ in range(6):
        qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.amplitude_zoom() == 64.0
    y = view._curves[0].getData()[1]
    assert 0.5 < np.abs(y).max() <= 1.0
    view.set_amplitude_zoom(1e6)
    assert view.amplitude_zoom() == 256.0 and np.abs(view._curves[0].getData()[1]).max() == pytest.approx(1.0)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.amplitude_zoom() == 128.0
    view.set_amplitude_zoom(0.1)
    assert view.amplitude_zoom() == 1.0


def test_spectrogram_toggle_shows_a_frequency_image_and_back(view, qtbot):
    rate = 16_000
    t = np.arange(rate * 2) / rate
    view.set_clip(Clip(np.sin(2 * np.pi * 2000 * t).astype(np.float32), rate))
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_S)
    assert view.spectrogram_visible() and view._image.isVisible()
    assert not view._curves[0].isVisible()
    assert view._box.viewRange()[1] == pytest.approx([0.0, 8000.0])
    image = view._image.image
    peak_bin = int(np.argmax(image.mean(axis=0)))
    assert peak_bin * rate / 1024 == pytest.approx(2000, abs=16)
    view.set_spectrogram_visible(False)
    assert view._curves[0].isVisible() and not view._image.isVisible()
    assert view._box.viewRange()[1][1] == pytest.approx(1.0, abs=0.1)


def test_spectrogram_columns_are_bounded_for_long_signals():
    image = spectrogram_db(np.zeros(44_100 * 600, np.float32), 6000)
    assert image.shape[0] <= 6000 and image.shape[1] == 513


def test_six_minute_stereo_file_opens_and_zooms_with_a_bounded_number_of_points(view, qtbot):
    clip = noise_clip(360.0, rate=44_100, channels=2)
    timings = {}
    began = time.perf_counter()
    view.set_clip(clip)
    qtbot.wait(1)
    timings["set_clip"] = time.perf_counter() - began
    limit = 2 * clip.channels * (MAX_COLUMNS + 2)
    assert view.drawn_point_count() <= limit
    for name, (start, end) in {"zoom 60 s": (100.0, 160.0), "zoom 1 s": (200.0, 201.0),
                               "zoom 5 ms": (300.0, 300.005)}.items():
        began = time.perf_counter()
        view.set_view(start, end)
        qtbot.wait(1)
        timings[name] = time.perf_counter() - began
        assert view.drawn_point_count() <= limit
    began = time.perf_counter()
    for _ in range(20):
        view.scroll(0.05)
    qtbot.wait(1)
    timings["20 scrolls"] = time.perf_counter() - began
    print("6-min stereo 44.1 kHz:", ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items()))


@pytest.mark.audio
def test_the_playhead_follows_real_playback_and_stops_with_it(view, qtbot):
    require_pulse()
    from core.devices.playback import Player

    clip = noise_clip(1.0, rate=48_000, channels=1)
    clip = Clip(clip.samples * 0.1, clip.sample_rate)
    done = threading.Event()
    player = Player(on_finished=done.set)
    view.set_clip(clip)
    view.attach_player(player)
    view.set_view(0.0, 0.2)
    player.play(clip)
    view.follow_playback()
    positions = []
    qtbot.waitUntil(lambda: positions.append(view.playhead()) or view.playhead() > 0.4, timeout=3000)
    assert view.view_range()[0] > 0.0  # the view paged along with the playhead
    assert done.wait(3.0)
    qtbot.waitUntil(lambda: not view.is_following(), timeout=2000)
    assert view.playhead() == pytest.approx(1.0, abs=0.01)
    assert positions == sorted(positions)


def drag(qtbot, view, frm, to, modifier=Qt.KeyboardModifier.NoModifier):
    """A left drag from `frm` to `to` seconds with `modifier` held throughout (QTest's moves carry no modifiers)."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    viewport = view.plot.viewport()
    start, end = plot_point(view, frm), plot_point(view, to)
    left = Qt.MouseButton.LeftButton

    def send(kind, pos, button, buttons):
        local = QPointF(pos)
        QApplication.sendEvent(viewport, QMouseEvent(kind, local, QPointF(viewport.mapToGlobal(pos)), button,
                                                     buttons, modifier))

    send(QMouseEvent.Type.MouseButtonPress, start, left, left)
    for step in range(1, 11):
        send(QMouseEvent.Type.MouseMove, start + (end - start) * step / 10, Qt.MouseButton.NoButton, left)
    send(QMouseEvent.Type.MouseButtonRelease, end, left, Qt.MouseButton.NoButton)
    qtbot.wait(10)


def test_a_drag_inside_a_selection_starts_a_new_one_and_ctrl_drag_moves_it_within_the_clip(view, qtbot):
    view.set_clip(noise_clip(3.0))
    view.set_selection(0.5, 2.5)
    drag(qtbot, view, 1.0, 1.6)  # inside the selection: a new selection, as in every editor
    assert view.selection() == pytest.approx((1.0, 1.6), abs=0.02)
    drag(qtbot, view, 1.3, 2.9, Qt.KeyboardModifier.ControlModifier)  # Ctrl: moves it whole, stops at the clip's end
    start, end = view.selection()
    assert end <= 3.0 and end == pytest.approx(3.0, abs=0.02) and end - start == pytest.approx(0.6, abs=0.02)
    drag(qtbot, view, 2.7, -1.0, Qt.KeyboardModifier.ControlModifier)  # and at its start
    assert view.selection() == pytest.approx((0.0, 0.6), abs=0.02)
