"""Playback and recording over sounddevice (PortAudio), degrading cleanly when there is no audio at all.

Qt-free. A writer thread per play hands the samples to PortAudio with blocking writes (why: PLAYBACK_LATENCY below);
it never touches the GUI. The GUI polls `Player.position` from a QTimer to move its playhead
(see studio.waveform.waveform_view).

    from core.devices.playback import Player, PlaybackUnavailable, list_output_devices, audio_status

    player = Player(device=None, on_finished=lambda: ...)  # None: the system default output
    try:
        player.play(clip, start=1.5)          # returns at once; the writer thread feeds PortAudio
        player.play(clip, start=1.0, end=2.0, loop=True)  # a range, played once or looped until stop()
    except PlaybackUnavailable as exc:
        show(str(exc))                        # one line: what is wrong and what to do
    player.position                           # seconds into the clip, for a playhead
    player.is_playing
    player.stop()

`on_finished` is called from the writer thread when a clip plays to its end (not after stop()); in Qt, emit a
signal from it (queued to the GUI thread) rather than touching widgets.

Everything that can fail for lack of audio hardware raises PlaybackUnavailable (a LoaError): sounddevice not
importable (no libportaudio2), no output device, a device that cannot be opened. `audio_status()` gives the same
news as a status line without raising. `record(seconds, device)` records from an input device (the audio test tier
records a PulseAudio null sink's monitor with it).
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, Union

import numpy as np

from core.audio.clip import Clip, resample
from core.devices.stream_close import CLOSE_WAIT_SECONDS, close_stream
from core.errors import LoaError, first_line
from core.quiet import quiet_native_libraries

DeviceChoice = Union[int, str, None]  # PortAudio index, (part of) a device name, or None for the default

# Output buffer for auditioning: the playhead takes it off, so only the start is later. Pads, which need low latency,
# have their own stream (core.devices.pad_player).
PLAYBACK_LATENCY = 0.2
# The clip is handed to PortAudio by a writer thread of its own with blocking writes, not from a stream callback. A
# callback is Python and needs the GIL every period (50 ms at 0.2 s); while other Python threads hold it (a
# generation, the GUI drawing) the start of a clip underran, because the stream starts with one period written and
# the next must come within 50 ms (six busy threads: 11 starts of 20 had a gap; CI with two busy threads, now and
# then). A blocking write waits for room in C without the GIL, so Python runs once per chunk, each time with a full
# buffer ahead (1 start of 20 under six busy threads). The callback path also lost each clip's last buffer: PortAudio
# 19.6 on ALSA drops it when a callback stream completes (a 1 s clip was heard for 0.79 s); the writer waits for the
# buffer to play out before it stops the stream.
WRITE_CHUNK = 0.25  # seconds per write after the first (which fills the whole buffer and one chunk)
DRAIN_GRACE = 2.5   # seconds past the buffer to wait for the last sample (a PulseAudio null sink holds a new stream
                    # back for up to 2 s)


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


_exit_wait_registered = False


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
    global _exit_wait_registered
    if not _exit_wait_registered:
        # After sounddevice's own exit handler, so it runs first (atexit is last-in, first-out): PortAudio's
        # terminate under a stopped take's last write aborted the process in libpulse (1 exit in 3).
        atexit.register(wait_for_writers)
        _exit_wait_registered = True
    return sounddevice


_live_lock = threading.Lock()
_live_takes: set = set()  # takes whose writer thread has not closed its stream yet (any Player)


def wait_for_writers(timeout: float = CLOSE_WAIT_SECONDS) -> bool:
    """Wait until every writer thread has closed its stream (a stopped take's writer finishes its write in
    progress first, at most WRITE_CHUNK); False if one is still writing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    with _live_lock:
        takes = list(_live_takes)
    return all(take.closed.wait(max(0.0, deadline - time.monotonic())) for take in takes)


def refresh_devices() -> None:
    """Re-scan devices: PortAudio lists them once when initialised, so a sound server started later is unseen.

    Call it while nothing plays or records (it restarts PortAudio); an app's "Re-scan devices" button can. It
    waits for stopped players' writers first: terminating PortAudio under a write crashes the process.
    """
    sd = backend()
    if not wait_for_writers():
        raise PlaybackUnavailable("Audio is busy: a playback is still closing; re-scan the devices in a moment.")
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
        self._take: Optional[Take] = None
        self._playing = False
        self._lock = threading.Lock()  # guards starting and stopping against concurrent GUI calls
        self._clock = time.monotonic
        self.clip: Optional[Clip] = None

    # --- state the GUI polls -------------------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self._playing

    @property
    def position(self) -> float:
        """Seconds into the clip of what is being heard now, or where playback stopped or ended."""
        take = self._take
        return 0.0 if take is None else take.position(self._clock())

    @property
    def underflows(self) -> int:
        """Writes PortAudio reported as late (the output ran dry before them) in the current or last play."""
        return 0 if self._take is None else self._take.underflows

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
            data = np.ascontiguousarray(samples, dtype=np.float32)
            take = Take(stream, data, rate, start, bool(loop) and len(data) > 0)
            try:
                stream.start()
            except Exception as exc:  # noqa: BLE001
                close_stream(stream)
                raise PlaybackUnavailable(f"Cannot start playback on {device.label}: {_first_line(exc)}.") from exc
            self._take, self.clip, self._playing = take, clip, True
            with _live_lock:
                _live_takes.add(take)
            threading.Thread(target=self._write_out, args=(take,), name="loa-playback", daemon=True).start()

    def stop(self) -> None:
        """Stop; returns at once and `position` stays where playback was. The writer thread hands out nothing
        more: as soon as its write in progress returns (within WRITE_CHUNK) it aborts the stream, dropping what
        the stream holds, and closes it. Only the writer calls into its stream: an abort from another thread
        under a blocked write hung for 2 s and then corrupted the heap when a recording ran beside it (a
        play + record + stop loop crashed on its second round)."""
        with self._lock:
            take = self._take
            self._playing = False
            if take is None or take.cancelled:
                return
            take.finish(self._clock())
            take.cancelled = True

    def close(self) -> None:
        """Stop and wait (at most 2 s) until the writer has closed the stream (before PortAudio ends, at exit)."""
        self.stop()
        take = self._take
        if take is not None:
            take.closed.wait(CLOSE_WAIT_SECONDS)

    # --- internals -------------------------------------------------------------------------------------
    def _open_stream(self, sd, device: AudioDevice, rate: int, channels: int):
        """Open at the clip's rate; if the device refuses it, at the device's own rate (the caller resamples)."""
        errors = []
        for candidate in dict.fromkeys([rate, int(device.default_rate)]):
            try:
                stream = sd.OutputStream(device=device.index, samplerate=candidate, channels=channels,
                                         dtype="float32", latency=self.latency)
                return stream, candidate
            except Exception as exc:  # noqa: BLE001 - PortAudioError, ValueError for bad settings
                errors.append(_first_line(exc))
        raise PlaybackUnavailable(f"Cannot open audio output {device.label}: {errors[-1]}; "
                                  "choose another output device.")

    def _write_out(self, take: "Take") -> None:
        """The writer thread: hand the take to PortAudio, wait until it has been heard, close the stream. The only
        thread that closes it, so no write ever runs on a closed stream."""
        stream, reached_end = take.stream, False
        try:
            room = int(stream.write_available)  # nothing written yet: the whole host buffer
            chunk = max(1, int(round(WRITE_CHUNK * take.rate)))
            for part in write_plan(take.data, room + chunk, chunk, take.loop):
                if take.cancelled:
                    break
                take.handed += len(part)
                if stream.write(part):
                    take.underflows += 1
                take.anchor(self._clock(), room)  # a blocking write returns with the buffer full
            else:
                reached_end = self._drain(take, room)
        except Exception:  # noqa: BLE001 - the device went away under the write
            pass
        close_stream(stream)  # aborts first: after a stop(), what the stream holds is dropped
        take.closed.set()
        with _live_lock:
            _live_takes.discard(take)
        with self._lock:
            if take.cancelled:
                return
            take.finish(self._clock(), reached_end)
            if self._take is take:
                self._playing = False
        if self.on_finished is not None:
            self.on_finished()

    def _drain(self, take: "Take", room: int) -> bool:
        """Wait until the host buffer has played out, so the clip's last buffer is heard before the stream stops."""
        deadline = self._clock() + room / take.rate + DRAIN_GRACE
        while not take.cancelled and self._clock() < deadline:
            if take.stream.write_available >= room:
                return True
            time.sleep(0.01)
        return not take.cancelled


class Take:
    """One play(): its stream and samples, what the writer has handed out, and the playhead's clock.

    The playhead is anchored each time a blocking write returns: the buffer is then full, so what has been heard is
    what was handed out less the buffer; between anchors it runs on the clock, never past what was handed out."""

    def __init__(self, stream, data: np.ndarray, rate: int, offset: float, loop: bool):
        self.stream, self.data, self.rate, self.offset, self.loop = stream, data, rate, offset, loop
        self.handed = 0            # frames given to PortAudio (keeps counting round a loop)
        self.underflows = 0
        self.cancelled = False     # stop() was asked: the writer hands out nothing more
        self.closed = threading.Event()  # the writer has closed the stream
        self._anchor_at: Optional[float] = None
        self._anchor_heard = 0
        self._final: Optional[float] = None  # frames heard when it stopped or ended

    def anchor(self, now: float, buffered: int) -> None:
        self._anchor_heard, self._anchor_at = max(0, self.handed - buffered), now

    def heard(self, now: float) -> float:
        if self._final is not None:
            return self._final
        if self._anchor_at is None:
            return 0.0
        return min(float(self.handed), self._anchor_heard + (now - self._anchor_at) * self.rate)

    def finish(self, now: float, reached_end: bool = False) -> None:
        self._final = float(self.handed) if reached_end else self.heard(now)

    def position(self, now: float) -> float:
        frames = self.heard(now)
        if self.loop:
            frames %= len(self.data)
        return self.offset + frames / self.rate


def write_plan(data: np.ndarray, first: int, chunk: int, loop: bool):
    """The parts a writer hands to PortAudio: `first` frames, then `chunk` at a time; round and round for a loop."""
    total = len(data)
    size, at = first, 0
    while total:
        if not loop:
            if at >= total:
                return
            yield data[at:at + size]
            at += size
        else:
            yield data[np.arange(at, at + size) % total]
            at = (at + size) % total
        size = chunk


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


def _first_line(exc: BaseException) -> str:
    return first_line(exc).rstrip(".")  # the messages around it end their own sentence
