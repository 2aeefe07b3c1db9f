"""Latency from a MIDI note-on to the pad's first sound, through the app's real path, as JSON.

    # needs a JACK server (MIDI) and a PulseAudio null sink as the default sink/source (.ci/services.sh starts both)
    python benchmarks/bench_midi_latency.py                   # 40 notes
    python benchmarks/bench_midi_latency.py --notes 100 --out benchmarks/results/midi_latency.json

A virtual MIDI output (rtmidi on JACK) sends note-ons to the window's MidiController (studio.midi.controller:
rtmidi callback -> queue -> Qt drain -> pad -> core.devices.pad_player's open stream). The time of each note-on
is taken just before it is sent. While the notes play, the null sink's monitor is recorded; each buffer's
capture time comes from PortAudio (inputBufferAdcTime, mapped to time.monotonic), so the first non-zero sample
after a note has a time on the same clock:

- `monitor_ms`: note-on -> first non-zero sample read back from the null sink (the figure the target is for);
- `dac_ms`: note-on -> the DAC time PortAudio reports for the block that starts the voice (the app's own view).

Target: monitor_ms median under 30 ms. Writes JSON to stdout and, with --out, to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # virtual_midi: the sending side
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LOA_CONFIG_DIR", tempfile.mkdtemp(prefix="loa-bench-config-"))

from benchmarks.json_report import print_and_save  # noqa: E402

RATE = 48_000
TARGET_MS = 30.0
THRESHOLD = 0.02  # a pad's first sample is 0.5; the empty sink reads 0


def stats(values: list[float]) -> dict:
    a = np.asarray(values, dtype=np.float64)
    if not len(a):
        return {"count": 0}
    return {"count": int(len(a)), "median": round(float(np.median(a)), 2), "mean": round(float(a.mean()), 2),
            "p90": round(float(np.percentile(a, 90)), 2), "min": round(float(a.min()), 2),
            "max": round(float(a.max()), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=40)
    parser.add_argument("--gap", type=float, default=0.25, help="seconds between notes")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication
    from virtual_midi import VirtualOutput  # tests/virtual_midi.py

    from core.audio.clip import Clip
    from core.devices.midi_messages import note_off, note_on
    from core.devices.playback import backend, resolve_device
    from studio.midi.controller import MidiController
    from studio.shell.settings import StudioSettings

    app = QApplication.instance() or QApplication([])
    name = f"loa-bench-{uuid.uuid4().hex[:8]}"
    out = VirtualOutput(name, client_name="loa-bench-controller")
    controller = MidiController(StudioSettings())
    if not controller.choose_input(name):
        print(json.dumps({"error": controller.status}))
        return 2
    # 60 ms of a constant 0.5: its very first sample is non-zero, and a note ends before the next one.
    controller.assign_pad(0, Clip(np.full(int(0.06 * RATE), 0.5, np.float32), RATE), "click")
    if not controller.player.is_open:
        print(json.dumps({"error": "pads cannot play: no audio output (start PulseAudio with a null sink)"}))
        return 2

    sd = backend()
    blocks: list[tuple[float, np.ndarray]] = []
    lock = threading.Lock()

    def capture(indata, frames, time_info, status):
        # Capture time of the buffer's first frame, on time.monotonic()'s clock.
        adc = time.monotonic() + (time_info.inputBufferAdcTime - time_info.currentTime)
        with lock:
            blocks.append((adc, indata[:, 0].copy()))

    stream = sd.InputStream(samplerate=RATE, channels=1, dtype="float32", callback=capture, blocksize=256,
                            latency="low", device=resolve_device(None, output=False).index)
    stream.start()

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.0005)

    pump(0.5)
    sent = []
    for _ in range(args.notes):
        sent.append(out.send(note_on(36, 127)))
        pump(args.gap * 0.5)
        out.send(note_off(36))
        pump(args.gap * 0.5)
    pump(0.3)
    stream.stop()
    stream.close()

    times = np.concatenate([adc + np.arange(len(chunk)) / RATE for adc, chunk in blocks])
    samples = np.concatenate([chunk for _, chunk in blocks])
    monitor, dac = [], []
    onsets = [t for slot, t in controller.player.onsets]
    for stamp in sent:
        after = np.flatnonzero((times >= stamp) & (np.abs(samples) > THRESHOLD) & (times < stamp + args.gap))
        if len(after):
            monitor.append((times[after[0]] - stamp) * 1000)
        later = [t for t in onsets if stamp <= t < stamp + args.gap]
        if later:
            dac.append((later[0] - stamp) * 1000)
    controller.close()
    out.close()

    result = {
        "benchmark": "midi_note_to_sound",
        "notes_sent": len(sent),
        "monitor_ms": stats(monitor),
        "dac_ms": stats(dac),
        "target_ms": TARGET_MS,
        "meets_target": bool(monitor) and float(np.median(monitor)) < TARGET_MS,
        "pad_output": controller.player.label,
        "pad_block_frames": controller.player.block,
        "midi_api": controller.midi.api,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "load_1min": round(os.getloadavg()[0], 2)},
    }
    print_and_save(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
