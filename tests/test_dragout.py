import json
import os
import time

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel

from core.audio.clip import Clip, load_clip, read_tags
from core.audio.formats.export import ExportSettings
from core.audio.provenance import Provenance, read_sidecar
from core.paths import cache_dir
from studio.export.dragout import (
    DragPayload,
    DragSource,
    SelectionDragButton,
    clip_mime_data,
    copy_to_clipboard,
    drag_payload,
    dragout_folder,
    export_with_dialog,
    exported_file,
    purge_dragout,
)
from studio.export.export_dialog import ExportDialog
from studio.waveform.waveform_view import WaveformView


def tone(seconds=1.0, rate=16_000, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return Clip(np.repeat(wave[:, None], channels, axis=1), rate)


def provenance(seed=99):
    return Provenance(prompt="Metal door slam in a large hall", model_id="tiny-audioldm2",
                      licence="CC-BY-NC-SA-4.0", seed=seed, settings={"steps": 2}, score=0.5)


class Entry:
    """Anything with .clip and .provenance() can be dragged (studio.shell.clip_entry.ClipEntry in the app)."""

    def __init__(self, clip, record):
        self.clip, self._record = clip, record

    def provenance(self):
        return self._record


@pytest.mark.parametrize("settings, frames", [(ExportSettings("wav", "pcm24", 48_000), 48_000),
                                              (ExportSettings("wav", "float32", 44_100), 44_100),
                                              (ExportSettings("flac", "pcm16", 16_000), 16_000)])
def test_mime_data_holds_a_file_url_that_reads_back_with_rate_length_and_metadata(qapp, settings, frames):
    mime = clip_mime_data(tone(1.0, channels=2), provenance(), settings)
    assert mime.hasUrls() and len(mime.urls()) == 1
    url = mime.urls()[0]
    assert url.isLocalFile() and url.toString().startswith("file:///")
    path = exported_file(mime)
    assert path.parent == cache_dir() / "dragout"
    assert path.name == f"metal-door-slam-in-a-large-hall_s99{settings.extension}"
    info = sf.info(str(path))
    assert info.samplerate == settings.sample_rate and info.channels == 2
    assert abs(info.frames - frames) <= 2
    tags = read_tags(path)
    assert tags["title"] == "Metal door slam in a large hall"
    assert json.loads(tags["comment"])["seed"] == 99
    assert "CC-BY-NC-SA-4.0" in tags["copyright"]
    assert read_sidecar(path)["model_id"] == "tiny-audioldm2"


def test_a_selection_drags_only_the_selected_range(qapp):
    mime = clip_mime_data(tone(2.0), provenance(), ExportSettings("wav", "pcm16", 16_000), start=0.5, end=1.25)
    path = exported_file(mime)
    assert path.name.endswith("_0.50-1.25s.wav")
    assert load_clip(path).frames == 12_000


def test_dragging_the_same_take_twice_keeps_both_files(qapp):
    first = exported_file(clip_mime_data(tone(0.1), provenance(), None))
    second = exported_file(clip_mime_data(tone(0.1), provenance(), lambda: ExportSettings()))
    assert first != second and first.exists() and second.exists()


def test_a_mouse_drag_on_a_drag_source_exports_the_payload(qtbot):
    label = QLabel("take 1")
    label.resize(200, 60)
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    asked = []

    def payload_at(pos):
        asked.append(pos)
        return DragPayload(tone(0.5), provenance(seed=5)) if pos.x() < 100 else None

    source = DragSource(label, payload_at, ExportSettings("flac", "pcm24", 44_100))
    assert source.mime_data(QPoint(150, 10)) is None
    asked.clear()
    # Offscreen, QDrag.exec() returns at once, so the whole press-move path runs and leaves the file behind.
    qtbot.mousePress(label, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    qtbot.mouseMove(label, QPoint(60, 30))
    qtbot.mouseRelease(label, Qt.MouseButton.LeftButton, pos=QPoint(60, 30))
    assert asked == [QPoint(20, 20)]
    written = sorted(dragout_folder().glob("*.flac"))
    assert [p.name for p in written] == ["metal-door-slam-in-a-large-hall_s5.flac"]
    assert sf.info(str(written[0])).samplerate == 44_100
    # A press where there is nothing to drag behaves as a plain click.
    qtbot.mousePress(label, Qt.MouseButton.LeftButton, pos=QPoint(150, 20))
    qtbot.mouseMove(label, QPoint(190, 30))
    assert len(list(dragout_folder().glob("*.flac"))) == 1


def test_drag_errors_become_one_line_messages(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    errors = []
    action = drag_payload(label, DragPayload(tone(1.0), provenance(), start=2.0, end=3.0), None, errors.append)
    assert action == Qt.DropAction.IgnoreAction
    assert len(errors) == 1 and errors[0].startswith("Cannot drag this audio out: selection")
    assert "\n" not in errors[0]


def test_selection_button_drags_the_waveform_selection(qtbot):
    view = WaveformView()
    qtbot.addWidget(view)
    entry = Entry(tone(2.0), provenance(seed=3))
    view.set_clip(entry.clip)
    button = SelectionDragButton(view, lambda: entry, ExportSettings("wav", "pcm16", 16_000))
    qtbot.addWidget(button)
    assert button.text() == "Drag clip"
    assert button.payload().start is None
    view.set_selection(0.5, 1.0)
    assert button.text() == "Drag selection"
    mime = button.source.mime_data(QPoint(1, 1))
    path = exported_file(mime)
    assert path.name == "metal-door-slam-in-a-large-hall_s3_0.50-1.00s.wav"
    assert load_clip(path).frames == 8_000


def test_copy_to_clipboard_puts_the_file_url_there(qapp):
    path = copy_to_clipboard(tone(0.5), provenance(), ExportSettings("wav", "pcm24", 48_000))
    try:
        mime = QGuiApplication.clipboard().mimeData()
        assert [u.toLocalFile() for u in mime.urls()] == [str(path)]
        assert mime.text() == mime.urls()[0].toString()
        assert sf.info(str(path)).samplerate == 48_000 and sf.info(str(path)).frames == 24_000
    finally:
        # Offscreen Qt segfaults at interpreter exit while the clipboard holds QMimeData (xcb does not).
        QGuiApplication.clipboard().clear()


def _answer_dialog(file_name, format_label=None):
    """Answer the Export dialog as a user would: optionally pick a format, type a name, press Export."""
    def answer():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ExportDialog):
            QTimer.singleShot(20, answer)
            return
        answer.suggested = dialog.path()
        if format_label:
            combo = dialog.format_combo
            combo.setCurrentIndex(combo.findText(format_label))
        dialog.name_edit.setText(file_name)
        dialog.export_button.click()
    answer.suggested = None
    QTimer.singleShot(20, answer)
    return answer


@pytest.mark.parametrize("typed, format_label, expected_name, subtype", [
    ("my-slam.flac", None, "my-slam.flac", "PCM_24"),
    ("my-slam", "FLAC", "my-slam.flac", "PCM_24"),
    ("my-slam.wav", None, "my-slam.wav", "FLOAT"),
])
def test_export_dialog_writes_the_chosen_file(qtbot, tmp_path, typed, format_label, expected_name, subtype):
    answer = _answer_dialog(typed, format_label)
    path = export_with_dialog(None, tone(1.0), provenance(), ExportSettings("wav", "float32", 44_100), tmp_path)
    assert answer.suggested == tmp_path / "metal-door-slam-in-a-large-hall_s99.wav"
    assert path == tmp_path / expected_name
    info = sf.info(str(path))
    assert info.subtype == subtype and info.samplerate == 44_100 and abs(info.frames - 44_100) <= 2
    assert read_tags(path)["title"] == "Metal door slam in a large hall"


def test_cancelling_the_export_dialog_writes_nothing(qtbot, tmp_path):
    def cancel():
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, ExportDialog):
            dialog.reject()
        else:
            QTimer.singleShot(20, cancel)
    QTimer.singleShot(20, cancel)
    assert export_with_dialog(None, tone(0.2), provenance(), None, tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_purge_removes_only_old_drag_files(qapp):
    old = exported_file(clip_mime_data(tone(0.1), provenance(seed=1), None))
    new = exported_file(clip_mime_data(tone(0.1), provenance(seed=2), None))
    week_ago = time.time() - 8 * 86_400
    os.utime(old, (week_ago, week_ago))
    assert purge_dragout(7) == 1
    assert not old.exists() and new.exists()
