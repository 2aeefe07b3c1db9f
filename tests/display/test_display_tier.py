"""Display tier: the real app under an X server (Xvfb in CI), screenshots kept as artifacts, and a real drag-out
driven by xdotool into a drop-target window. Skips cleanly without DISPLAY, an answering X server or xdotool.

Screenshots land in test-artifacts/ at the repository root (git-ignored; CI keeps them).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import soundfile as sf
from audio_services import require_display

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ARTIFACTS = REPO / "test-artifacts"
PROMPT = "metal door slam in a large hall"

pytestmark = pytest.mark.display


@pytest.fixture(scope="session")  # session scope: checked before the session's tiny model is built
def display():
    require_display()
    ARTIFACTS.mkdir(exist_ok=True)


@pytest.fixture
def processes():
    """Start helper processes; each is ended by its own PID at teardown."""
    started: list[subprocess.Popen] = []

    def start(args, log_name):
        log = open(ARTIFACTS / log_name, "w")
        env = dict(os.environ, QT_QPA_PLATFORM="xcb", PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]))
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def xdotool(*args: str) -> str:
    done = subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=30)
    return done.stdout.strip()


def screenshot(name: str) -> Path:
    path = ARTIFACTS / name
    subprocess.run(["import", "-window", "root", str(path)], check=True, timeout=60)
    return path


def publish(shot: Path) -> None:
    """The guide's screenshots (docs/images/) are the display tier's own: a test that passed copies its screenshot
    there, so the docs show the window as it is now."""
    images = REPO / "docs" / "images"
    images.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, images / shot.name)


def distinct_colours(path: Path) -> int:
    done = subprocess.run(["identify", "-format", "%k", str(path)], capture_output=True, text=True, timeout=60)
    return int(done.stdout.strip() or 0)


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None, log: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"process exited ({proc.returncode}) while waiting for {what}; see test-artifacts/{log}")
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def window_of(pid: int, title: str) -> str | None:
    for window in xdotool("search", "--name", title).split():
        if xdotool("getwindowpid", window) == str(pid):
            return window
    return None


def centre(rect, dy: float | None = None) -> tuple[int, int]:
    x, y, w, h = rect
    return int(x + w / 2), int(y + (h / 2 if dy is None else dy))


def test_loa_studio_starts_on_the_display_and_is_screenshotted(display, processes):
    command = shutil.which("loa-studio")
    args = [command] if command else [sys.executable, "-m", "studio.app"]
    app = processes(args, "loa-studio.log")
    window = wait_for(lambda: window_of(app.pid, "LOA Studio"), 60, "the LOA Studio window", app, "loa-studio.log")
    # painted: polled (a loaded machine may take longer than any fixed pause), then kept as the guide's screenshot
    shot = wait_for(lambda: (s := screenshot("loa-studio-window.png")).stat().st_size > 10_000
                    and distinct_colours(s) > 20 and s, 60, "the window to paint (a non-blank screenshot)",
                    app, "loa-studio.log")
    assert shot.stat().st_size > 10_000
    assert distinct_colours(shot) > 20, "the screenshot is blank"
    geometry = xdotool("getwindowgeometry", window)
    assert "Geometry" in geometry
    assert app.poll() is None, "loa-studio exited on its own"
    log = (ARTIFACTS / "loa-studio.log").read_text()
    assert "Traceback" not in log, log


def prepare_tiny_model(tiny_model_dir: Path) -> str:
    """Register the tiny model as a local model folder for Sound mode, as the model manager does."""
    from studio.shell.settings import StudioSettings

    folder = str(tiny_model_dir.resolve())
    settings = StudioSettings()
    settings.local_models = [folder]
    settings.set_model_for_mode("sound", folder)
    settings.sync()
    return folder


def test_a_candidate_card_drags_out_of_the_main_window_into_another_app(display, processes, tiny_model_dir,
                                                                         tmp_path):
    prepare_tiny_model(tiny_model_dir)
    screen_w, screen_h = (int(v) for v in xdotool("getdisplaygeometry").split())
    win_w, win_h = min(1200, screen_w - 340), min(800, screen_h - 40)
    target_rect = (win_w + 30, 120, 280, 280)
    dropped = tmp_path / "dropped.json"
    target = processes([sys.executable, str(HERE / "drop_target.py"), str(dropped), *map(str, target_rect)],
                       "drop-target.log")
    geometry_file = tmp_path / "geometry.json"
    panel_file = tmp_path / "panel.json"
    panel_file.write_text(json.dumps({"seconds": 1.0, "steps": 2, "candidates": 2}))
    studio = processes([sys.executable, str(HERE / "studio_harness.py"), str(geometry_file), "0", "0",
                        str(win_w), str(win_h), str(panel_file)], "studio-harness.log")

    def widgets():
        try:
            return json.loads(geometry_file.read_text())
        except (OSError, ValueError):
            return None

    found = wait_for(lambda: (w := widgets()) and "promptEdit" in w and "generateButton" in w and w,
                     60, "the main window", studio, "studio-harness.log")
    wait_for(lambda: window_of(target.pid, "LOA drop target"), 30, "the drop target", target, "drop-target.log")
    time.sleep(1.0)

    # Type the prompt and press Generate, as a user would.
    xdotool("mousemove", *map(str, centre(found["promptEdit"])), "click", "1")
    xdotool("type", "--delay", "20", PROMPT)
    xdotool("mousemove", *map(str, centre(found["generateButton"])), "click", "1")
    found = wait_for(lambda: (w := widgets()) and "candidateCard" in w and w, 180, "a candidate card", studio,
                     "studio-harness.log")
    time.sleep(1.0)
    screenshot("studio-with-candidates.png")

    # The real drag: press on the card's waveform thumbnail, move in steps, release over the drop target.
    path = drag_and_receive(centre(found["candidateCard"], dy=30), centre(target_rect), dropped, target)
    screenshot("after-drag-out.png")
    check_dropped_file(path, seconds=1.0)

    # A library row drags out the same way (the take was stored in the library when it was generated).
    found = wait_for(lambda: (w := widgets()) and "libraryRow0" in w and w, 30, "a library row", studio,
                     "studio-harness.log")
    path = drag_and_receive(centre(found["libraryRow0"]), centre(target_rect), dropped, target)
    check_dropped_file(path, seconds=1.0)

    # Select part of the waveform with a real mouse drag, then drag the selection out by its handle.
    # Under load the window may still be finishing the last drop or loading the library item (which resets
    # the selection), so the gesture is tried again after a pause, as a user would.
    for attempt in range(3):
        time.sleep(1.0)
        found = widgets() or found
        plot = found["waveformPlot"]
        row = plot[1] + plot[3] // 3
        xdotool("mousemove", str(plot[0] + plot[2] // 4), str(row))
        time.sleep(0.3)
        xdotool("mousedown", "1")
        for i in range(1, 11):
            xdotool("mousemove", str(plot[0] + plot[2] // 4 + i * plot[2] // 25), str(row))
            time.sleep(0.05)
        xdotool("mouseup", "1")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (widgets() or {}).get("waveformSelection"):
            time.sleep(0.2)
        found = widgets() or found
        if found.get("waveformSelection"):
            # The window publishes every 200 ms: wait until two readings agree (the last move is processed).
            previous = None
            for _ in range(20):
                time.sleep(0.3)
                found = widgets() or found
                if found["waveformSelection"] == previous:
                    break
                previous = found["waveformSelection"]
            break
    else:
        screenshot("selection-failed.png")
        pytest.fail("three mouse drags over the waveform made no selection; see test-artifacts/selection-failed.png")
    low, high = found["waveformSelection"]
    assert 0.0 < low < high < 1.0
    path = drag_and_receive(centre(found["selectionDragButton"]), centre(target_rect), dropped, target)
    screenshot("after-selection-drag-out.png")
    assert path.name.endswith(f"_{low:.2f}-{high:.2f}s.wav"), path.name
    check_dropped_file(path, seconds=high - low)


def drag_and_receive(start, end, dropped: Path, target) -> Path:
    """Press at `start`, move to `end` in small steps, release; return the file the drop target received."""
    if dropped.exists():
        dropped.unlink()
    xdotool("mousemove", *map(str, start))
    time.sleep(0.3)
    xdotool("mousedown", "1")
    steps = 25
    for i in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * i // steps
        y = start[1] + (end[1] - start[1]) * i // steps
        xdotool("mousemove", str(x), str(y))
        time.sleep(0.04)
    time.sleep(0.5)
    xdotool("mouseup", "1")
    received = wait_for(lambda: dropped.exists() and json.loads(dropped.read_text()), 30, "the drop", target,
                        "drop-target.log")
    assert received["action"] == "CopyAction"
    assert len(received["urls"]) == 1
    url = urlparse(received["urls"][0])
    assert url.scheme == "file"
    time.sleep(1.0)  # let the source's QDrag.exec() return before the next press
    return Path(unquote(url.path))


def check_dropped_file(path: Path, seconds: float) -> None:
    """The dropped file: in the drag-out folder, readable name, default export format, provenance inside."""
    from core.audio.clip import read_tags
    from core.audio.provenance import read_sidecar

    assert path.parent == Path(os.environ["LOA_CACHE_DIR"]) / "dragout"
    assert path.name.startswith("metal-door-slam-in-a-large-hall_s") and path.suffix == ".wav"
    info = sf.info(str(path))
    assert info.samplerate == 16_000 and info.subtype == "PCM_24"  # default: the take's own rate, 24-bit
    assert abs(info.frames - seconds * 16_000) <= 16_000 * 0.05
    assert read_tags(path)["title"] == PROMPT
    sidecar = read_sidecar(path)
    assert sidecar["prompt"] == PROMPT and sidecar["model_id"]
    assert f"_s{sidecar['seed']}" in path.name


def test_an_audio_file_dragged_onto_the_window_opens_in_the_editor_and_the_library(display, processes, tmp_path):
    audio = tmp_path / "dropped bell.wav"
    rate = 44_100
    t = [i / rate for i in range(rate)]
    import numpy as np

    sf.write(str(audio), (0.3 * np.sin(2 * np.pi * 660 * np.array(t))).astype("float32"), rate)
    screen_w, screen_h = (int(v) for v in xdotool("getdisplaygeometry").split())
    win_w, win_h = min(1200, screen_w - 340), min(800, screen_h - 40)
    source_rect = (win_w + 30, 120, 260, 200)
    source = processes([sys.executable, str(HERE / "drag_source.py"), str(audio), *map(str, source_rect)],
                       "drag-source.log")
    geometry_file = tmp_path / "geometry.json"
    studio = processes([sys.executable, str(HERE / "studio_harness.py"), str(geometry_file), "0", "0",
                        str(win_w), str(win_h)], "studio-harness-drop.log")

    def widgets():
        try:
            return json.loads(geometry_file.read_text())
        except (OSError, ValueError):
            return None

    found = wait_for(lambda: (w := widgets()) and "waveformPlot" in w and w, 60, "the main window", studio,
                     "studio-harness-drop.log")
    wait_for(lambda: window_of(source.pid, "LOA drag source"), 30, "the drag source", source, "drag-source.log")
    time.sleep(1.0)
    assert found["libraryCount"] == 0
    start, end = centre(source_rect), centre(found["waveformPlot"])
    for attempt in range(3):  # a busy machine may miss the first press, as a user's first try might
        xdotool("mousemove", *map(str, start))
        time.sleep(0.3)
        xdotool("mousedown", "1")
        for i in range(1, 26):
            xdotool("mousemove", str(start[0] + (end[0] - start[0]) * i // 25),
                    str(start[1] + (end[1] - start[1]) * i // 25))
            time.sleep(0.04)
        time.sleep(0.5)
        xdotool("mouseup", "1")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (widgets() or {}).get("editorClip"):
            time.sleep(0.2)
        if (widgets() or {}).get("editorClip"):
            break
        time.sleep(1.0)
    screenshot("after-file-drop.png")
    found = widgets()
    assert found.get("editorClip") == "dropped bell", "the dropped file did not open; see after-file-drop.png"
    assert found["libraryCount"] == 1
