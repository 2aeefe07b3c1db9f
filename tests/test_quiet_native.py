"""The terminal stays clean: native audio/MIDI libraries' probing noise (libjack with no server, alsa-lib with no
sequencer) is dropped at the source, while real errors still get through."""

import os
import subprocess
import sys
import threading
from pathlib import Path

from core.quiet import NATIVE_NOISE, filtered_native_stderr

REPO = Path(__file__).resolve().parents[1]

JACK_NOISE = [
    "Cannot connect to server socket err = No such file or directory",
    "Cannot connect to server request channel",
    "jack server is not running or cannot be started",
    "JackShmReadWritePtr::~JackShmReadWritePtr - Init not done for -1, skipping unlock",
]
ALSA_NOISE = "ALSA lib seq_hw.c:466:(snd_seq_hw_open) open /dev/snd/seq failed: No such file or directory"

OPEN_THE_APP = """
import sys
from PySide6.QtCore import QTimer
from studio import app

make_application = app.make_application

def closing_soon(argv=None):
    application = make_application(argv)
    QTimer.singleShot(3000, application.quit)
    return application

app.make_application = closing_soon
sys.exit(app.main(["loa-studio"]))
"""


def test_noise_printed_by_native_code_is_dropped_and_real_errors_pass(capfd):
    with filtered_native_stderr():
        for line in JACK_NOISE + [ALSA_NOISE]:
            os.write(2, (line + "\n").encode())  # file descriptor 2, as C libraries write
        os.write(2, b"segfault handler: something real\n")
        worker = threading.Thread(target=lambda: print("Traceback from another thread", file=sys.stderr))
        worker.start()
        worker.join()
        with filtered_native_stderr():  # nested probes redirect once
            os.write(2, b"Cannot connect to server request channel\n")
    print("after", file=sys.stderr)
    err = capfd.readouterr().err  # (capfd hands Python's sys.stderr its file directly: order may differ)
    assert sorted(err.splitlines()) == ["Traceback from another thread", "after", "segfault handler: something real"]


def test_the_noise_pattern_matches_only_library_probing_lines():
    assert all(NATIVE_NOISE.match(line) for line in JACK_NOISE + [ALSA_NOISE])
    for real in ["Traceback (most recent call last):", "ValueError: bad", "Segmentation fault",
                 "loa: error: input file not found"]:
        assert not NATIVE_NOISE.match(real)


def test_the_app_opens_without_jack_or_alsa_noise_on_the_terminal(tmp_path):
    """The window already says in its MIDI status why there is no MIDI; the terminal gets nothing."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path),
               JACK_DEFAULT_SERVER="loa-test-no-such-server", PYTHONPATH=str(REPO))
    env.pop("JACK_NO_START_SERVER", None)  # the app must set it itself: a JACK probe must never launch a server
    done = subprocess.run([sys.executable, "-c", OPEN_THE_APP], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    noise = [line for line in done.stderr.splitlines() if NATIVE_NOISE.match(line)]
    assert noise == []
    # Qt's offscreen platform (used by tests, not by users' desktops) notes what it cannot do; nothing else.
    other = [line for line in done.stderr.splitlines() if not line.startswith("This plugin does not support")]
    assert other == []
