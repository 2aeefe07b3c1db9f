"""Display tier, Speech mode: the reference voice and the script editor with rendered lines, on a real X server at
1024x640 and 1600x1000, screenshotted into test-artifacts/ (speech-1024x640.png, speech-1600x1000.png); every
control of the speech tools must be on screen at both sizes."""

from __future__ import annotations

import json
import sys

import pytest
from test_display_tier import ARTIFACTS, HERE, display, distinct_colours, processes, publish, screenshot, wait_for  # noqa: F401

pytestmark = pytest.mark.display

SIZES = ("1024x640", "1600x1000")


def test_speech_tools_fit_the_window_at_both_sizes(display, processes, tiny_speech_model_dir, corpus_files, tmp_path):
    reference = next(p for p in corpus_files if p.name == "speech_front_center_48k_mono.wav")
    app = processes([sys.executable, str(HERE / "speech_harness.py"), str(tmp_path),
                     str(tiny_speech_model_dir.resolve()), str(reference), *SIZES], "speech-harness.log")
    for size in SIZES:
        ready = tmp_path / f"ready-{size}.json"
        wait_for(ready.exists, 300, f"the speech tools at {size}", app, "speech-harness.log")
        report = json.loads(ready.read_text())
        shot = screenshot(f"speech-{size}.png")
        (tmp_path / f"done-{size}").touch()
        assert distinct_colours(shot) > 20, "the screenshot is blank"
        assert report["lines"] == ["done", "done"], report
        hidden = [name for name, seen in report["visible"].items() if not seen]
        assert not hidden, f"not on screen at {size} (window {report['size']}): {hidden}"
        publish(shot)
    app.wait(60)
    log = (ARTIFACTS / "speech-harness.log").read_text()
    assert "Traceback" not in log, log
