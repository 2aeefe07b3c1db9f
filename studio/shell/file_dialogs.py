"""File dialogs that open where the user last was for the same purpose (opening audio, a reference voice, a script,
a job file, a model folder...), remembered across restarts in the window's settings; the home folder only the
first time, or when the remembered folder is gone.

    paths = open_files(parent, "audio", "Open audio", FILE_FILTER)
    path = open_file(parent, "script", "Open a script", SCRIPT_FILTER)
    path = save_file(parent, "script", "Save the script", "episode.txt", SCRIPT_FILTER)
    folder = choose_folder(parent, "models", "Model folder")
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import QFileDialog

from studio.shell.settings import StudioSettings

KEY = "folders/{purpose}"


def last_folder(purpose: str) -> str:
    """The folder the `purpose` dialog opened at last, or the home folder."""
    folder = StudioSettings()._get(KEY.format(purpose=purpose), "", str)
    return folder if folder and Path(folder).is_dir() else str(Path.home())


def remember(purpose: str, path: str | Path) -> None:
    """Remember where the user went for `purpose` (a file's folder, or a folder itself)."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    settings = StudioSettings()
    settings._set(KEY.format(purpose=purpose), str(folder))
    settings.sync()


def open_file(parent, purpose: str, title: str, filters: str = "") -> str:
    path, _ = QFileDialog.getOpenFileName(parent, title, last_folder(purpose), filters)
    if path:
        remember(purpose, path)
    return path


def open_files(parent, purpose: str, title: str, filters: str = "") -> list[str]:
    paths, _ = QFileDialog.getOpenFileNames(parent, title, last_folder(purpose), filters)
    if paths:
        remember(purpose, paths[0])
    return paths


def save_file(parent, purpose: str, title: str, name: str = "", filters: str = "") -> str:
    """A file to save to, offered as `name` in the remembered folder (a `name` with a folder keeps its folder)."""
    start = name if name and Path(name).parent != Path(".") else str(Path(last_folder(purpose)) / name)
    path, _ = QFileDialog.getSaveFileName(parent, title, start, filters)
    if path:
        remember(purpose, path)
    return path


def choose_folder(parent, purpose: str, title: str, start: Optional[str] = None) -> str:
    folder = QFileDialog.getExistingDirectory(parent, title, start or last_folder(purpose))
    if folder:
        remember(purpose, folder)
    return folder
