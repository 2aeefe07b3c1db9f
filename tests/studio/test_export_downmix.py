"""A 5.1 file in the real window: the Export dialog says it will be downmixed (ITU-R BS.775) when the user picks
stereo or mono, and the file written holds every channel's share; Make stereo in the editor says so too."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from studio_helpers import run_export_dialog

from studio.export.export_dialog import SAME

H = np.sqrt(0.5)


def labels(dialog):
    return {"channels": dialog.channels_combo.currentText(), "result": dialog.result_label.text(),
            "enabled": dialog.export_button.isEnabled()}


@pytest.fixture
def film(tmp_path):
    """Half a second of 5.1 (L R C LFE Ls Rs) at 48 kHz, 24-bit, each channel its own noise."""
    samples = np.random.default_rng(7).uniform(-0.25, 0.25, (24_000, 6)).astype(np.float32)
    path = tmp_path / "film mix.wav"
    sf.write(str(path), samples, 48_000, subtype="PCM_24")
    return path



def test_the_dialog_says_a_5_1_clip_is_downmixed_and_the_file_holds_the_mix(make_window, film, exports):
    window = make_window()
    window.editor.import_paths([film])

    def choose(dialog):
        steps = {"same": labels(dialog)}
        dialog.depth_combo.setCurrentIndex(dialog.depth_combo.findText("32-bit float"))
        dialog.channels_combo.setCurrentIndex(dialog.channels_combo.findText("Mono"))
        steps["mono"] = labels(dialog)
        dialog.channels_combo.setCurrentIndex(dialog.channels_combo.findText("Stereo"))
        steps["stereo"] = labels(dialog)
        dialog.export_button.click()
        return steps
    seen = run_export_dialog(choose)
    path = window.export_selected()

    steps = seen["result"]
    assert steps["same"]["channels"] == f"{SAME} (6 channels)"
    assert "downmixed" not in steps["same"]["result"]  # same as source keeps all six
    assert steps["mono"]["result"] == ("Writes: WAV 32-bit float, 48 kHz, mono. 6 channels (5.1) downmixed to mono "
                                       "(ITU-R BS.775, LFE left out, then the two averaged).")
    assert steps["stereo"]["result"] == ("Writes: WAV 32-bit float, 48 kHz, stereo. 6 channels (5.1) downmixed to "
                                         "stereo (ITU-R BS.775, LFE left out).")
    source = sf.read(str(film), dtype="float64")[0]
    L, R, C, _lfe, Ls, Rs = source.T
    written = sf.read(str(path), dtype="float64")[0]
    assert written.shape == (len(source), 2)
    np.testing.assert_allclose(written[:, 0], L + H * C + H * Ls, atol=1e-6)
    np.testing.assert_allclose(written[:, 1], R + H * C + H * Rs, atol=1e-6)


def test_make_stereo_on_a_5_1_clip_says_how_it_was_mixed(make_window, qtbot, film):
    window = make_window()
    window.editor.import_paths([film])
    controller = window.editor.controller
    qtbot.waitUntil(lambda: controller.clip() is not None and controller.clip().channels == 6, timeout=5000)
    messages = []
    controller.message.connect(messages.append)
    assert controller.apply("to_stereo", {})
    qtbot.waitUntil(lambda: not controller.busy and controller.clip().channels == 2, timeout=5000)
    assert any(m.startswith("6 channels (5.1) downmixed to stereo (ITU-R BS.775") for m in messages)
    controller.discard_edits()
