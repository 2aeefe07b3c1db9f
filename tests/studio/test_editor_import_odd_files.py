"""Odd files opened in the editor (File > Open… or dropped): one clear line in the banner, nothing stored, the clip
on screen untouched. The same reader as the CLI (core.audio.clip.load_clip); see tests/test_cli_errors.py."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import soundfile as sf

from core.audio.clip import Clip


def five_hours_of_silence(path):
    """A real 16-bit stereo 44.1 kHz WAV of 5 hours (3.2 GB), written sparse: its samples cost no disk."""
    data = 5 * 3600 * 44_100 * 4
    header = (b"RIFF" + (36 + data).to_bytes(4, "little") + b"WAVEfmt " +
              struct.pack("<IHHIIHH", 16, 1, 2, 44_100, 44_100 * 4, 4, 16) + b"data" + data.to_bytes(4, "little"))
    with path.open("wb") as f:
        f.write(header)
        f.truncate(len(header) + data)
    return path


ODD_FILES = {
    "empty": (lambda folder: (folder / "empty.wav").write_bytes(b"") or folder / "empty.wav",
              "empty.wav is empty (0 bytes)"),
    "folder": (lambda folder: folder, "is a folder, not an audio file"),
    "five-hours": (lambda folder: five_hours_of_silence(folder / "five hours.wav"),
                   "five hours.wav is too long to open: 5:00:00"),
}


@pytest.mark.parametrize("kind", sorted(ODD_FILES))
def test_an_odd_file_gives_one_line_and_changes_nothing(make_window, tmp_path, kind):
    rate = 22_050
    clip = Clip((0.3 * np.sin(2 * np.pi * 220 * np.arange(rate) / rate)).astype(np.float32)[:, None], rate)
    good = tmp_path / "tone.wav"
    sf.write(str(good), clip.samples, rate, subtype="FLOAT")
    window = make_window()
    window.editor.import_paths([good])
    before = window.library.count()
    folder = tmp_path / "odd files ünï"
    folder.mkdir()
    make, words = ODD_FILES[kind]
    assert window.editor.import_paths([make(folder)]) == []
    assert window.library.count() == before
    assert window.error_banner.isVisible() and words in window.error_banner.text()
    assert "\n" not in window.error_banner.text()
    np.testing.assert_array_equal(window.editor.controller.clip().samples, clip.samples)
