"""The terminal stays clean: native audio/MIDI libraries' probing noise (libjack with no server, alsa-lib with no
sequencer) goes through the libraries' own error callbacks to the debug log, while real errors still get through;
stderr itself is never redirected."""

import json
import os
import subprocess
import sys
from pathlib import Path

from core.quiet import NATIVE_NOISE, _jack_message

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


PROBE = """
import logging, os, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stdout, format="%(name)s: %(message)s")
real_dup2 = os.dup2
def watched(fd, fd2, *args):  # sounddevice's own Pa_Initialize hides fd 2 briefly; our code never touches it
    caller = sys._getframe(1).f_globals.get("__name__", "")
    assert not caller.startswith(("core", "studio")), f"{caller} redirected file descriptor {fd2}"
    return real_dup2(fd, fd2, *args)
os.dup2 = watched
from core.devices import midi, playback
playback.refresh_devices()  # PortAudio probes ALSA and JACK
for kind in ("in", "out"):
    try:
        midi.open_client(kind, "loa probe", apis=("alsa", "jack"))
    except midi.MidiUnavailable as exc:
        print("status:", exc)
"""


def test_native_probing_noise_goes_through_the_libraries_callbacks_never_a_redirect(tmp_path):
    """A real process probes PortAudio and rtmidi (whose wheel bundles its own libjack) with no JACK server and no
    sound card: the libraries' lines arrive in our callbacks (the debug log), none on the terminal, and our code
    never redirects file descriptor 2."""
    env = dict(os.environ, JACK_DEFAULT_SERVER="loa-test-no-such-server", PYTHONPATH=str(REPO))
    env.pop("JACK_NO_START_SERVER", None)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if NATIVE_NOISE.match(line)] == []
    assert "status: No MIDI system" in done.stdout
    assert "core.quiet: jack server is not running" in done.stdout  # libjack's line, through our callback


def test_a_jack_message_that_is_not_probing_noise_reaches_the_terminal(capfd):
    _jack_message(b"Cannot connect to server request channel")
    _jack_message(b"JackEngine::XRun: client loa was not finished, state = Triggered")
    assert capfd.readouterr().err == "JackEngine::XRun: client loa was not finished, state = Triggered\n"


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


STALLED_PADS = """
import json, sys, time
import numpy as np
from core.audio.clip import Clip
from core.devices.pad_player import PadPlayer
from core.quiet import alsa_xruns

class Stalling(PadPlayer):  # the pads' callback held up past the stream's buffer, as a starved Python thread is
    stalls = 0
    def _callback(self, outdata, frames, time_info, status):
        if self.stalls < 4 and time.monotonic() - self.opened > 0.4 * (self.stalls + 1):
            type(self).stalls += 1
            time.sleep(4 * self.latency)
        super()._callback(outdata, frames, time_info, status)

player = Stalling()
player.opened = time.monotonic()
player.open()
player.opened = time.monotonic()
rate = player.rate
t = np.arange(int(0.4 * rate)) / rate
player.load(0, Clip((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate))
while Stalling.stalls < 4 and time.monotonic() - player.opened < 20.0:
    player.trigger(0)
    time.sleep(0.125)
time.sleep(0.3)
player.close()
print(json.dumps({"stalls": Stalling.stalls, "flagged": player.underruns, "alsa": alsa_xruns()}))
"""


def test_pad_underruns_do_happen_when_the_callback_stalls_and_none_reaches_the_terminal():
    """Issue 21: 1,353 "ALSA lib pcm.c:…(snd_pcm_recover) underrun occurred" lines in one session. A real pad
    stream to the PulseAudio null sink whose callback is stalled past its buffer does underrun (PortAudio's flag
    and alsa-lib's own report, counted by our handler), and not one line reaches the process's stderr."""
    from audio_services import require_pulse

    require_pulse()
    done = subprocess.run([sys.executable, "-c", STALLED_PADS], env=dict(os.environ, PYTHONPATH=str(REPO)),
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["stalls"] == 4
    assert report["flagged"] + report["alsa"]["underrun"] > 0, f"no underrun was provoked: {report}"
    assert "occurred" not in done.stderr and [line for line in done.stderr.splitlines() if line.strip()] == [], \
        done.stderr
