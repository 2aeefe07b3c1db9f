"""Audio tier for the window: auditioning a candidate in the real main window sounds on the sound server
(a PulseAudio null sink under .ci/run; recorded back from its monitor) and the waveform playhead follows it.
Skips cleanly where no PulseAudio server answers."""

import numpy as np
import pytest
from audio_services import require_pulse
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.audio.clip import Clip

pytestmark = pytest.mark.audio


@pytest.fixture
def window(qtbot):
    require_pulse()
    from studio.shell.main_window import MainWindow
    from studio.shell.settings import StudioSettings

    win = MainWindow(settings=StudioSettings())
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.auditioner.stop()
    win.close()
    win.deleteLater()
    QApplication.processEvents()


def test_space_plays_the_selected_candidate_to_the_sound_server_and_the_playhead_follows(window, qtbot):
    from core.devices.playback import record
    from studio.shell.clip_entry import ClipEntry

    rate = 16_000
    t = np.arange(2 * rate) / rate
    clip = Clip((0.4 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), rate)
    entry = ClipEntry(clip=clip, prompt="test tone", mode="sound", model="tiny", licence="MIT", seed=1, score=0.5)
    window.candidates.show_entries([entry])
    window.candidates.setFocus()
    assert "Audio output:" in window.statusBar().currentMessage()

    qtbot.keyClick(window.candidates, Qt.Key.Key_Space)
    assert window.auditioner.is_playing
    heard = record(0.8, rate=48_000)  # from the null sink's monitor, while the window plays
    spectrum = np.abs(np.fft.rfft(heard.samples[:, 0] * np.hanning(heard.frames)))
    assert np.argmax(spectrum) * 48_000 / heard.frames == pytest.approx(1000, abs=3)
    assert np.abs(heard.samples).max() == pytest.approx(0.4, abs=0.05)

    qtbot.waitUntil(lambda: window.waveform.playhead() > 0.9, timeout=10_000)
    qtbot.waitUntil(lambda: not window.auditioner.is_playing, timeout=5000)
    qtbot.waitUntil(lambda: not window.waveform.is_following(), timeout=10_000)
    assert window.waveform.playhead() == pytest.approx(2.0, abs=0.01)
