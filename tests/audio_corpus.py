"""Real recordings for tests, taken from the Debian packages they ship in (installed by .ci/run).

Each recording is looked for at its package path first, then in ../shared/audio-corpus (a developer's copy).
Tests see them under the corpus names below (linked into a session folder), whose prefixes they select by.
A missing recording skips the tests that need it, except with CI=true, where it fails the run: CI installs the
packages, so a missing file there is a broken setup, not an absent optional.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "audio-corpus"
FREEDESKTOP = Path("/usr/share/sounds/freedesktop/stereo")
# corpus name -> (Debian package, path installed by it)
RECORDINGS = {
    "bell_44k_stereo.oga": ("sound-theme-freedesktop", FREEDESKTOP / "bell.oga"),
    "camera_shutter_96k_stereo.oga": ("sound-theme-freedesktop", FREEDESKTOP / "camera-shutter.oga"),
    "game_sfx_000.wav": ("colobot-common-sounds", Path("/usr/share/games/colobot/sounds/sound000.wav")),
    "music_intro_44k_stereo_24s.ogg": ("colobot-common-sounds", Path("/usr/share/games/colobot/music/Intro1.ogg")),
    "phone_busy_8k_mono.oga": ("sound-theme-freedesktop", FREEDESKTOP / "phone-outgoing-busy.oga"),
    "service_login_22k_stereo.oga": ("sound-theme-freedesktop", FREEDESKTOP / "service-login.oga"),
    "speech_front_center_48k_mono.wav": ("alsa-utils", Path("/usr/share/sounds/alsa/Front_Center.wav")),
    "trash_empty_44k_stereo.oga": ("sound-theme-freedesktop", FREEDESKTOP / "trash-empty.oga"),
}


def find_recording(name: str) -> Path | None:
    """The installed file for a corpus name: the package's path, else the shared corpus copy."""
    _, installed = RECORDINGS[name]
    for candidate in (installed, SHARED_CORPUS / name):
        if candidate.is_file():
            return candidate
    return None


def corpus_files(folder: Path) -> list[Path]:
    """Every recording linked into `folder` under its corpus name, sorted by name; skip (fail in CI) if any
    is missing."""
    missing = [f"{name} ({package}: {path})" for name, (package, path) in RECORDINGS.items()
               if find_recording(name) is None]
    if missing:
        message = f"real recordings missing: {'; '.join(missing)}. Install the packages (see .ci/run)."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    files = []
    for name in sorted(RECORDINGS):
        link = folder / name
        link.symlink_to(find_recording(name))
        files.append(link)
    return files
