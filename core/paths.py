"""User folders (platformdirs), each overridable by an environment variable for tests and portable setups."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

_DIRS = PlatformDirs(appname="loa-studio", appauthor=False)


def _folder(env: str, default: str) -> Path:
    path = Path(os.environ.get(env) or default).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Library database and kept audio. LOA_DATA_DIR overrides."""
    return _folder("LOA_DATA_DIR", _DIRS.user_data_dir)


def config_dir() -> Path:
    """Settings and user presets. LOA_CONFIG_DIR overrides."""
    return _folder("LOA_CONFIG_DIR", _DIRS.user_config_dir)


def cache_dir() -> Path:
    """Temporary renders such as drag-out files. LOA_CACHE_DIR overrides."""
    return _folder("LOA_CACHE_DIR", _DIRS.user_cache_dir)


def app_folders() -> list[Path]:
    """The folders the app writes into on its own (data, settings, cache), as set now; not created here."""
    return [Path(os.environ.get(env) or default).expanduser()
            for env, default in (("LOA_DATA_DIR", _DIRS.user_data_dir), ("LOA_CONFIG_DIR", _DIRS.user_config_dir),
                                 ("LOA_CACHE_DIR", _DIRS.user_cache_dir))]
