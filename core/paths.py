"""User folders (platformdirs), each overridable by an environment variable for tests and portable setups."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from platformdirs import PlatformDirs

_DIRS = PlatformDirs(appname="loa-studio", appauthor=False)


def _folder(env: str, default: str, what: str, xdg: str) -> Path:
    """The folder, created if needed; one that cannot be (a file in its path, no permission) is an InputError
    naming it and the variable that chose it, not an OSError from deep inside a command."""
    path = Path(os.environ.get(env) or default).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from core.errors import InputError

        chosen_by = env if os.environ.get(env) else (xdg if os.environ.get(xdg) and os.name == "posix" else None)
        reason = "a part of its path is a file, not a folder" if exc.errno in (errno.ENOTDIR, errno.EEXIST) \
            else (exc.strerror or str(exc)).lower()
        fix = f"set {chosen_by} (which chose it)" if chosen_by else f"set {env}"
        raise InputError(f"cannot use {path} as LOA's {what} folder: {reason}; {fix} to a folder you can "
                         "write.") from None
    return path


def data_dir() -> Path:
    """Library database and kept audio. LOA_DATA_DIR overrides."""
    return _folder("LOA_DATA_DIR", _DIRS.user_data_dir, "data", "XDG_DATA_HOME")


def config_dir() -> Path:
    """Settings and user presets. LOA_CONFIG_DIR overrides."""
    return _folder("LOA_CONFIG_DIR", _DIRS.user_config_dir, "settings", "XDG_CONFIG_HOME")


def cache_dir() -> Path:
    """Temporary renders such as drag-out files. LOA_CACHE_DIR overrides."""
    return _folder("LOA_CACHE_DIR", _DIRS.user_cache_dir, "cache", "XDG_CACHE_HOME")


def app_folders() -> list[Path]:
    """The folders the app writes into on its own (data, settings, cache), as set now; not created here."""
    return [Path(os.environ.get(env) or default).expanduser()
            for env, default in (("LOA_DATA_DIR", _DIRS.user_data_dir), ("LOA_CONFIG_DIR", _DIRS.user_config_dir),
                                 ("LOA_CACHE_DIR", _DIRS.user_cache_dir))]
