"""Helpers for the `audio` and `display` tiers: find the services .ci/run starts, or skip cleanly.

Under CI=true a tier whose service did not start fails the run instead of skipping (`service_missing`): a CI
run that silently skipped its display, audio or JACK tests would report green without testing them.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import subprocess

import pytest


def service_missing(reason: str) -> None:
    """Skip the test for want of `reason` (a service or the tool that drives it); with CI=true, fail it."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}: .ci/services.sh should have started it (see its log)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)  # also called at import time by a module's guard


def require_module(name: str, reason: str):
    """Import and return the optional package `name` (e.g. ray, the cluster extra); without it skip, or under
    CI=true fail: .ci/run installs every extra, so a missing one there is a broken install, not a tier to skip."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        service_missing(reason)


def require_tools(*tools: str) -> None:
    """Skip unless every reference tool in `tools` (sox, ffmpeg: Debian packages of the same names) is on PATH;
    with CI=true fail: .ci/run installs them, so a missing one there is a broken install."""
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    reason = f"{' and '.join(missing)} not installed (apt install {' '.join(missing)})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}: .ci/run should have installed it", pytrace=False)
    pytest.skip(reason)


def pulse_answers() -> bool:
    if shutil.which("pactl") is None:
        return False
    try:
        return subprocess.run(["pactl", "info"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def require_pulse() -> None:
    """Skip unless a PulseAudio server answers and PortAudio sees an output device through it (CI: fail)."""
    if ctypes.util.find_library("portaudio") is None:
        service_missing("libportaudio2 is not installed")
    if not pulse_answers():
        service_missing("no PulseAudio server answers `pactl info` (.ci/run starts one with a null sink)")
    from core.devices.playback import list_output_devices, refresh_devices

    refresh_devices()  # PortAudio may have been initialised before the server was reachable
    if not list_output_devices():
        service_missing("PulseAudio answers but PortAudio sees no device (libasound2-plugins missing?)")


def x_display_answers() -> bool:
    display = os.environ.get("DISPLAY")
    if not display or shutil.which("xdpyinfo") is None:
        return bool(display) and shutil.which("xdotool") is not None and _xdotool_answers()
    try:
        return subprocess.run(["xdpyinfo"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _xdotool_answers() -> bool:
    try:
        return subprocess.run(["xdotool", "getmouselocation"], capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def require_display() -> None:
    """Skip unless DISPLAY names an X server that answers and xdotool + ImageMagick `import` are installed
    (CI: fail)."""
    for tool in ("xdotool", "import"):
        if shutil.which(tool) is None:
            service_missing(f"{tool} is not installed (apt install xdotool imagemagick)")
    if not os.environ.get("DISPLAY"):
        service_missing("no DISPLAY: the display tier needs an X server (.ci/run starts Xvfb)")
    if not x_display_answers():
        service_missing(f"the X server at DISPLAY={os.environ['DISPLAY']} does not answer")

