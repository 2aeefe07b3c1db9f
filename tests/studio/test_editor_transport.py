"""The editor's transport: readouts, play ranges, the waveform keeping the user's view, looped playback."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.clip import Clip


def noise(seconds=4.0, rate=8000, channels=1):
    rng = np.random.default_rng(0)
    return Clip(rng.uniform(-0.5, 0.5, (int(seconds * rate), channels)).astype(np.float32), rate)


def test_readouts_show_seconds_and_bars_beats_when_a_tempo_is_known(qtbot):
    from studio.editor.transport import TransportBar, bars_beats, length_in_bars, seconds_text

    assert seconds_text(1.25) == "1.250 s"
    assert seconds_text(75.5) == "1:15.500"
    assert bars_beats(0.0, 120) == "1.1.00"
    assert bars_beats(2.25, 120) == "2.1.50"   # 4.5 beats at 120 BPM: bar 2, beat 1, half way
    assert length_in_bars(2.0, 120) == "1:0"
    bar = TransportBar()
    qtbot.addWidget(bar)
    bar.show_selection((0.5, 1.5))
    assert bar.selection_label.full_text() == "Selection 0.500 s – 1.500 s, length 1.000 s"
    assert bar.selection_label.toolTip() == "Selection: start 0.500 s, end 1.500 s, length 1.000 s"
    assert "·" not in bar.position_label.full_text()
    bar.set_tempo(120.0)
    assert "· bars 1.2.00 – 1.4.00 (0:2)" in bar.selection_label.full_text()  # 1 beat to 3 beats
    bar.show_selection((2.0, 4.0))
    assert "· bars 2.1.00 – 3.1.00 (1:0)" in bar.selection_label.full_text()
    bar.show_position(2.25)
    assert bar.position_label.full_text() == "2.250 s · 2.1.50"
    bar.show_selection(None)
    assert bar.selection_label.text() == "No selection"
    assert not bar.selection_button.isEnabled()


def test_record_button_is_a_hook_that_only_lights_when_the_recorder_says_so(qtbot):
    from studio.editor.transport import TransportBar

    bar = TransportBar()
    qtbot.addWidget(bar)
    with qtbot.waitSignal(bar.record_requested):
        bar.record_button.click()
    assert not bar.record_button.isChecked()
    bar.set_recording(True)
    assert bar.record_button.isChecked()


def test_play_range_prefers_the_selection_then_the_cursor():
    from studio.editor.playback import play_range

    assert play_range(1.0, (2.0, 3.0), 4.0) == (2.0, 3.0)
    assert play_range(1.0, (2.0, 3.0), 4.0, use_selection=False) == (1.0, None)
    assert play_range(1.0, None, 4.0) == (1.0, None)
    assert play_range(4.0, None, 4.0) == (0.0, None)  # at the very end: from the start


def test_a_click_places_the_cursor_and_an_edited_clip_keeps_view_selection_and_cursor(qtbot):
    from studio.waveform.waveform_view import WaveformView

    view = WaveformView()
    qtbot.addWidget(view)
    view.resize(600, 200)
    view.set_clip(noise())
    view._clicked_at(1.5)
    assert view.cursor() == pytest.approx(1.5)
    view.set_view(1.0, 2.0)
    view.set_selection(1.2, 1.4)
    shorter = Clip(view.clip().samples[:24000], 8000)  # 3 s
    view.set_clip(shorter, keep_view=True)
    assert view.view_range() == pytest.approx((1.0, 2.0))
    assert view.selection() == pytest.approx((1.2, 1.4))
    view.clear_selection()
    assert view.cursor() == pytest.approx(1.2)  # a selection puts the cursor at its start
    view.set_clip(noise())  # another clip: everything back to the start
    assert view.cursor() == 0.0 and view.selection() is None and view.view_range() == pytest.approx((0.0, 4.0))
    view.set_selection(1.0, 2.0)
    view.zoom_to_selection()
    assert view.view_range() == pytest.approx((1.0, 2.0))


@pytest.mark.audio
def test_space_plays_from_the_cursor_or_the_selection_and_keeps_a_zoomed_view(make_window, qtbot, tmp_path):
    """Real playback into the PulseAudio null sink (.ci/run): Space starts at the cursor, not at 0; a selection
    plays just the selection; the zoomed view stays where the user put it."""
    import soundfile as sf
    from audio_services import require_pulse
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    require_pulse()
    clip = noise(seconds=4.0, rate=48_000)
    path = tmp_path / "noise.wav"
    sf.write(str(path), clip.samples * 0.1, 48_000, subtype="FLOAT")
    window = make_window()
    window.editor.import_paths([path])
    view, player = window.waveform, window.auditioner.player
    view.set_view(2.0, 3.0)
    view._clicked_at(2.1)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: player.is_playing, timeout=10_000)
    ranges = []
    qtbot.waitUntil(lambda: ranges.append(view.view_range()) or player.position > 2.4, timeout=5000)
    assert player.position >= 2.1 and player.clip is window.editor.controller.clip()
    assert min(low for low, _ in ranges) >= 2.0 - 1e-6  # never scrolled back to 0
    qtbot.keyClick(view, Qt.Key.Key_Space)  # stop
    qtbot.waitUntil(lambda: not player.is_playing, timeout=10_000)
    assert view.view_range()[0] >= 2.0 - 1e-6

    view.set_selection(1.0, 1.3)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: player.is_playing, timeout=10_000)
    positions = []
    qtbot.waitUntil(lambda: positions.append(player.position) or not player.is_playing, timeout=5000)
    assert 1.0 - 1e-6 <= min(positions) and max(positions) <= 1.3 + 1e-3  # the selection only
    assert player.position == pytest.approx(1.3, abs=0.01)
