"""Display tier: the window at the smallest supported size (1024x640) and a large one (1600x1000) under a real X
server, with generated takes on screen; every card's Keep button inside the candidates column. The screenshots
(test-artifacts/studio-1024x640.png, studio-1600x1000.png) are kept for review."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from test_display_tier import (  # noqa: F401
    ARTIFACTS,
    HERE,
    PROMPT,
    centre,
    display,
    prepare_tiny_model,
    processes,
    publish,
    wait_for,
    window_of,
    xdotool,
)

pytestmark = pytest.mark.display


def inside(inner, outer) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and x + w <= ox + ow and oy <= y and y + h <= oy + oh


@pytest.mark.parametrize("size", [(1024, 640), (1600, 1000)])
def test_the_window_at_its_smallest_and_a_large_size(display, processes, tiny_model_dir, tmp_path, size):
    prepare_tiny_model(tiny_model_dir)
    width, height = size
    geometry_file, panel_file = tmp_path / "geometry.json", tmp_path / "panel.json"
    panel_file.write_text(json.dumps({"seconds": 1.0, "steps": 2, "candidates": 4}))
    log = f"studio-{width}x{height}.log"
    studio = processes([sys.executable, str(HERE / "studio_harness.py"), str(geometry_file), "0", "0",
                        str(width), str(height), str(panel_file)], log)

    def widgets():
        try:
            return json.loads(geometry_file.read_text())
        except (OSError, ValueError):
            return None

    found = wait_for(lambda: (w := widgets()) and "promptEdit" in w and w, 90, "the main window", studio, log)
    xdotool("mousemove", *map(str, centre(found["promptEdit"])), "click", "1")
    xdotool("type", "--delay", "20", PROMPT)
    xdotool("mousemove", *map(str, centre(found["generateButton"])), "click", "1")
    # four cards, laid out: a snapshot taken as the cards were added could show the first Keep not yet visible
    found = wait_for(lambda: (w := widgets()) and len(w.get("keepButtons", [])) == 4 and w["keepButtons"][0] and w,
                     180, "four cards", studio, log)
    assert found["windowSize"] == [width, height]  # nothing in the window forces it bigger
    viewport = found["candidatesViewport"]
    first_keep = found["keepButtons"][0]
    assert first_keep is not None and inside(first_keep, viewport), (first_keep, viewport)
    assert all(rect is None or rect[0] + rect[2] <= viewport[0] + viewport[2] for rect in found["keepButtons"])

    window = wait_for(lambda: window_of(studio.pid, "LOA Studio"), 30, "the window id", studio, log)
    shot = ARTIFACTS / f"studio-{width}x{height}.png"
    subprocess.run(["import", "-window", window, str(shot)], check=True, timeout=60)
    assert shot.stat().st_size > 10_000
    assert "Traceback" not in (ARTIFACTS / log).read_text()
    publish(shot)
