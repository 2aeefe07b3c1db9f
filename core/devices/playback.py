"""Playback and recording over sounddevice (PortAudio), degrading cleanly when there is no audio at all.

Qt-free. The audio callback only copies samples and advances a frame counter: it never touches the GUI.
The GUI polls `Player.position` from a QTimer to move its playhead (see studio.waveform.waveform_view).

    from core.devices.playback import Player, PlaybackUnavailable, list_output_devices, audio_status

    player = Player(device=None, on_finished=lambda: ...)  # None: the system default output
    try:
        player.play(clip, start=1.5)          # returns at once; audio runs on PortAudio's thread
        player.play(clip, start=1.0, end=2.0, loop=True)  # a range, played once or looped until stop()
    except PlaybackUnavailable as exc:
        show(str(exc))                        # one line: what is wrong and what to do
    player.position                           # seconds into the clip, for a playhead
    player.is_playing
    player.stop()

`on_finished` is called from the audio thread when a clip plays to its end (not after stop()); in Qt, emit a
signal from it (queued to the GUI thread) rather than touching widgets.

Everything that can fail for lack of audio hardware raises PlaybackUnavailable (a LoaError): sounddevice not
importable (no libportaudio2), no output device, a device that cannot be opened. `audio_status()` gives the same
news as a status line without raising. `record(seconds, device)` records from an input device (the audio test tier
records a PulseAudio null sink's monitor with it).
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from typing import Callable, Optional, Union

import numpy as np

from core.audio.clip import Clip, resample
from core.devices.stream_close import close_stream
from core.errors import LoaError, first_line
from core.quiet import quiet_native_libraries

DeviceChoice = Union[int, str, None]  # PortAudio index, (part of) a device name, or None for the default

# Output buffer for auditioning. The callback is Python, so it waits for the GIL while other threads (a generation,
# the GUI drawing) run: with PortAudio's default 35 ms on PulseAudio, two busy Python threads made a 3 s clip
# underrun 5-6 times (choppy, and a PulseAudio null sink stalls up to 2 s after each); at 0.1 s once in 3 runs, at
# 0.2 s never (benchmarks/bench_playback_load.py). The playhead takes the latency off, so only the start is later.
# Pads, which need low latency, have their own stream (core.devices.pad_player).
PLAYBACK_LATENCY = 0.2


class PlaybackUnavailable(LoaError):
    """Audio output or input cannot be used; the message says why in one line and what to do."""


@dataclass(frozen=True)
class AudioDevice:
    index: int
    name: str
    host_api: str
    max_output_channels: int
    max_input_channels: int
    default_rate: float
    is_default_output: bool = False
    is_default_input: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} ({self.host_api})"


def backend():
    """The sounddevice module, or PlaybackUnavailable when PortAudio cannot be loaded."""
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # PortAudio's JACK probe must never launch a server
    if "sounddevice" not in sys.modules:
        quiet_native_libraries()  # the first import probes ALSA and JACK, which print when absent
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio is missing
        raise PlaybackUnavailable(f"Audio is unavailable: {_first_line(exc)} "
                                  "(install PortAudio, e.g. apt install libportaudio2).") from exc
    except ImportError as exc:
        raise PlaybackUnavailable(f"Audio is unavailable: cannot import sounddevice ({_first_line(exc)}).") from exc
    return sounddevice


def refresh_devices() -> None:
    """Re-scan devices: PortAudio lists them once when initialised, so a sound server started later is unseen.

    Call it while nothing plays or records (it restarts PortAudio); an app's "Re-scan devices" button can.
    """
    sd = backend()
    try:
        sd._terminate()
        sd._initialize()
    except Exception as exc:  # noqa: BLE001 - PortAudio errors vary by host API
        raise PlaybackUnavailable(f"Audio is unavailable: cannot re-scan devices ({_first_line(exc)}).") from exc


def list_devices() -> list[AudioDevice]:
    """Every device PortAudio sees (possibly none). Raises PlaybackUnavailable only when PortAudio is missing."""
    sd = backend()
    try:
        raw = sd.query_devices()
        apis = sd.query_hostapis()
        default_in, default_out = sd.default.device
    except Exception:  # noqa: BLE001 - a broken host API means no usable device, not a crash
        return []
    devices = []
    for info in raw:
        devices.append(AudioDevice(
            index=info["index"], name=info["name"], host_api=apis[info["hostapi"]]["name"],
            max_output_channels=info["max_output_channels"], max_input_channels=info["max_input_channels"],
            default_rate=float(info["default_samplerate"]),
            is_default_output=info["index"] == default_out, is_default_input=info["index"] == default_in))
    return devices


def list_output_devices() -> list[AudioDevice]:
    return [d for d in list_devices() if d.max_output_channels > 0]


def list_input_devices() -> list[AudioDevice]:
    return [d for d in list_devices() if d.max_input_channels > 0]


def resolve_device(choice: DeviceChoice, output: bool = True) -> AudioDevice:
    """The device for an index, a name (exact, then substring, case-insensitive) or None (the default)."""
    kind = "output" if output else "input"
    devices = list_output_devices() if output else list_input_devices()
    if not devices:
        raise PlaybackUnavailable(f"No audio {kind} device found; connect one or start a sound server "
                                  "(PulseAudio/PipeWire), then re-scan devices.")
    if choice is None or choice == "":
        default = [d for d in devices if (d.is_default_output if output else d.is_default_input)]
        return default[0] if default else devices[0]
    if isinstance(choice, int) and not isinstance(choice, bool):
        for device in devices:
            if device.index == choice:
                return device
    else:
        wanted = str(choice).lower()
        exact = [d for d in devices if d.name.lower() == wanted or d.label.lower() == wanted]
        partial = [d for d in devices if wanted in d.label.lower()]
        if exact or partial:
            return (exact or partial)[0]
    names = ", ".join(d.label for d in devices)
    raise PlaybackUnavailable(f"Audio {kind} device {choice!r} not found; choose one of: {names}.")


def audio_status(device: DeviceChoice = None) -> str:
    """One line for a status bar: the output in use, or why there is none. Never raises."""
    try:
        chosen = resolve_device(device)
    except PlaybackUnavailable as exc:
        return str(exc)
    return f"Audio output: {chosen.label}"


class Player:
    """Plays one clip at a time on an output device; `position` and `is_playing` are safe to poll from the GUI."""

    def __init__(self, device: DeviceChoice = None, on_finished: Optional[Callable[[], None]] = None,
                 latency: Union[float, str] = PLAYBACK_LATENCY):
        self.device = device
        self.on_finished = on_finished
        self.latency = latency  # seconds of output buffer asked of PortAudio (it may grant more), or "low"/"high"
        self._stream = None
        self._data = np.zeros((0, 1), dtype=np.float32)
        self._frame = 0          # next frame the callback hands out (written only by the audio thread while playing)
        self._rate = 1
        self._offset = 0.0       # clip time (seconds) where the played data starts
        self._latency = 0.0
        self._loop = False       # wrap around the played range instead of ending
        self._playing = False
        self._stopping = False
        self._lock = threading.Lock()  # guards stream open/close against concurrent GUI calls
        self.clip: Optional[Clip] = None

    # --- state the GUI polls -------------------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self._playing

    @property
    def position(self) -> float:
        """Seconds into the clip of what is being heard now (output latency taken off), or where playback ended."""
        frames = self._frame
        if self._playing:
            frames = max(0.0, frames - self._latency * self._rate)
        if self._loop and len(self._data):
            frames = frames % len(self._data)
        return self._offset + frames / self._rate

    def set_device(self, device: DeviceChoice) -> AudioDevice:
        """Choose the output; validated at once so the GUI can show the problem next to the choice."""
        chosen = resolve_device(device)
        self.device = device
        return chosen

    # --- control ---------------------------------------------------------------------------------------
    def play(self, clip: Clip, start: float = 0.0, end: Optional[float] = None, loop: bool = False) -> None:
        """Play `clip` from `start` to `end` seconds (None: its end), once or, with `loop`, round and round until
        stop(); stops whatever was playing. Raises PlaybackUnavailable."""
        sd = backend()
        self.stop()
        device = resolve_device(self.device)
        start = float(np.clip(start, 0.0, clip.seconds))
        end = clip.seconds if end is None else float(np.clip(end, start, clip.seconds))
        # Stereo when the device has two outputs: 5.1, quad, ... play as their downmix (core.audio.downmix)
        channels = 2 if device.max_output_channels >= 2 else 1
        samples = clip.with_channels(channels).samples if clip.channels != channels else clip.samples
        samples = samples[int(round(start * clip.sample_rate)):int(round(end * clip.sample_rate))]
        with self._lock:
            stream, rate = self._open_stream(sd, device, clip.sample_rate, channels)
            if rate != clip.sample_rate:
                samples = resample(samples, clip.sample_rate, rate)
            self._data = np.ascontiguousarray(samples, dtype=np.float32)
            self._frame = 0
            self._rate = rate
            self._offset = start
            self._latency = float(stream.latency or 0.0)
            self._loop = bool(loop) and len(self._data) > 0
            self._stopping = False
            self._stream = stream
            self.clip = clip
            self._playing = True
            try:
                stream.start()
            except Exception as exc:  # noqa: BLE001
                self._playing = False
                self._close_stream()
                raise PlaybackUnavailable(f"Cannot start playback on {device.label}: {_first_line(exc)}.") from exc

    def stop(self) -> None:
        """Stop at once; `position` stays where playback was. The audio callback sees `_stopping` first and hands
        out silence, so a stream whose abort by the host API is slow or fails (close_stream ignores its errors)
        does not go on sounding after the player says it stopped (nor waits on a driver that hung)."""
        with self._lock:
            self._stopping = True
            self._playing = False
            self._close_stream()

    def close(self) -> None:
        self.stop()

    # --- internals -------------------------------------------------------------------------------------
    def _open_stream(self, sd, device: AudioDevice, rate: int, channels: int):
        """Open at the clip's rate; if the device refuses it, at the device's own rate (the caller resamples)."""
        errors = []
        for candidate in dict.fromkeys([rate, int(device.default_rate)]):
            try:
                stream = sd.OutputStream(device=device.index, samplerate=candidate, channels=channels,
                                         dtype="float32", callback=self._callback, latency=self.latency,
                                         finished_callback=self._finished)
                return stream, candidate
            except Exception as exc:  # noqa: BLE001 - PortAudioError, ValueError for bad settings
                errors.append(_first_line(exc))
        raise PlaybackUnavailable(f"Cannot open audio output {device.label}: {errors[-1]}; "
                                  "choose another output device.")

    def _callback(self, outdata, frames, time_info, status) -> None:
        # Runs on PortAudio's thread: copy samples and advance the counter, nothing else.
        if self._stopping:  # stop() was asked: silence from this buffer on, even if the host's abort is late
            outdata[:] = 0
            raise _callback_abort()
        if self._loop:
            self._loop_callback(outdata, frames)
            return
        start = self._frame
        chunk = self._data[start:start + frames]
        count = len(chunk)
        outdata[:count] = chunk
        if count < frames:
            outdata[count:] = 0
        self._frame = start + count
        if count < frames:
            raise _callback_stop()

    def _loop_callback(self, outdata, frames) -> None:
        # The counter keeps growing; `position` folds it back into the range.
        data, filled = self._data, 0
        while filled < frames:
            at = (self._frame + filled) % len(data)
            count = min(frames - filled, len(data) - at)
            outdata[filled:filled + count] = data[at:at + count]
            filled += count
        self._frame += frames

    def _finished(self) -> None:
        # Also on PortAudio's thread, once the stream is inactive (end of data, or stop()).
        reached_end = not self._stopping
        self._playing = False
        if reached_end and self.on_finished is not None:
            self.on_finished()

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        close_stream(stream)


def record(seconds: float, device: DeviceChoice = None, rate: int = 48_000, channels: int = 1) -> Clip:
    """Record `seconds` from an input device (blocking). Raises PlaybackUnavailable when recording is impossible."""
    sd = backend()
    chosen = resolve_device(device, output=False)
    channels = max(1, min(channels, chosen.max_input_channels))
    frames = int(round(seconds * rate))
    if frames <= 0:
        raise ValueError("record() needs a positive duration")
    try:
        samples = sd.rec(frames, samplerate=rate, channels=channels, dtype="float32", device=chosen.index,
                         blocking=True)
    except Exception as exc:  # noqa: BLE001
        raise PlaybackUnavailable(f"Cannot record from {chosen.label}: {_first_line(exc)}.") from exc
    return Clip(samples, rate)


def _callback_stop():
    import sounddevice

    return sounddevice.CallbackStop()


def _callback_abort():
    import sounddevice

    return sounddevice.CallbackAbort()


def _first_line(exc: BaseException) -> str:
    return first_line(exc).rstrip(".")  # the messages around it end their own sentence
