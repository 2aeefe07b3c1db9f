"""Recording from an input device the user chose: ring buffer in the callback, take streamed to disk by a drain.

Qt-free. PortAudio's callback only copies each block into a RingBuffer. The consumer calls `drain()`
(the studio from a QTimer every few tens of milliseconds; `drain_until()` or a thread of your own elsewhere):
it empties the ring into the take file (core.devices.takes, flushed at least once a second) and through the
level meter, and watches the device. Stop returns the take with its device, rate, channels and time.

    recorder = Recorder(device="USB mic")      # None: the system default input
    try:
        recorder.start()                        # raises PlaybackUnavailable with one clear line
    except PlaybackUnavailable as exc: show(str(exc))
    recorder.drain()                            # from a timer: -> MeterReading; recorder.fault says if it died
    take = recorder.stop()                      # RecordedTake: .clip, .path, .device, .sample_rate, .started

Faults (a device unplugged, a stream error, a device that stops delivering audio) end the take on the spot:
`fault` holds the one-line reason, `is_recording` turns False, and every sample that reached the ring is in the
file; `stop()` still returns the take.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from core.audio.clip import Clip
from core.devices.meter import LevelMeter, MeterReading
from core.devices.playback import (
    AudioDevice,
    DeviceChoice,
    PlaybackUnavailable,
    _first_line,
    backend,
    list_input_devices,
    resolve_device,
)
from core.devices.ringbuffer import RingBuffer
from core.devices.stream_close import close_stream
from core.devices.takes import PendingTake, TakeWriter, open_pending

DEFAULT_RATE = 48_000
RING_SECONDS = 20.0   # how long the drain may stall (a busy GUI thread) before frames are dropped
STALL_SECONDS = 2.0   # no audio for this long from a running stream: the device is gone


@dataclass
class RecordedTake:
    """A finished (or faulted) take: the file in the recordings folder and what it was recorded with."""

    clip: Clip
    path: Path
    device: str
    sample_rate: int
    channels: int
    started: str
    fault: str = ""
    dropped_frames: int = 0

    @property
    def seconds(self) -> float:
        return self.clip.seconds

    def details(self) -> dict:
        """What the library records about a take."""
        info = {"device": self.device, "sample_rate": self.sample_rate, "channels": self.channels,
                "recorded_at": self.started, "seconds": round(self.seconds, 3)}
        if self.fault:
            info["fault"] = self.fault
        if self.dropped_frames:
            info["dropped_frames"] = self.dropped_frames
        return info

    def discard_file(self) -> None:
        """Once the take is safe in the library, the pending file goes."""
        PendingTake(self.path).discard()


def input_status(device: DeviceChoice = None) -> str:
    """One line for the window: the input that Record would use, or why there is none. Never raises."""
    try:
        chosen = resolve_device(device, output=False)
    except PlaybackUnavailable as exc:
        return str(exc)
    return f"Audio input: {chosen.label}"


class Recorder:
    def __init__(self, device: DeviceChoice = None, rate: Optional[int] = None, channels: Optional[int] = None,
                 folder: Optional[Path] = None, stall_seconds: float = STALL_SECONDS) -> None:
        self.device = device
        self.rate_wanted = rate
        self.channels_wanted = channels
        self.folder = folder
        self.stall_seconds = stall_seconds
        self.fault = ""
        self.input: Optional[AudioDevice] = None
        self.meter: Optional[LevelMeter] = None
        self.writer: Optional[TakeWriter] = None
        self._ring: Optional[RingBuffer] = None
        self._stream = None
        self._recording = False
        self._stopping = False
        self._stream_ended = False   # set from PortAudio's thread when the stream finishes
        self._overflows = 0          # blocks the device itself reported as overflowed
        self._last_data = 0.0

    # ---- state the GUI polls ----------------------------------------------------------------------------
    @property
    def is_recording(self) -> bool:
        return self._recording

    @property
    def seconds(self) -> float:
        return self.writer.seconds if self.writer is not None else 0.0

    @property
    def path(self) -> Optional[Path]:
        return self.writer.path if self.writer is not None else None

    @property
    def dropped_frames(self) -> int:
        return self._ring.dropped_frames if self._ring is not None else 0

    # ---- control ----------------------------------------------------------------------------------------
    def start(self) -> AudioDevice:
        """Open the input and a new take file; returns the device. Raises PlaybackUnavailable."""
        if self._recording:
            raise RuntimeError("already recording")
        sd = backend()
        device = resolve_device(self.device, output=False)
        channels = self.channels_wanted or (1 if device.max_input_channels == 1 else 2)
        channels = max(1, min(channels, device.max_input_channels))
        stream, rate = self._open_stream(sd, device, channels)
        self.input, self.fault = device, ""
        self._ring = RingBuffer(int(RING_SECONDS * rate), channels)
        self.meter = LevelMeter(rate, channels)
        self._stream_ended = self._stopping = False
        self._overflows = 0
        try:
            self.writer = TakeWriter.create(rate, channels, device.label, folder=self.folder)
        except OSError as exc:
            stream.close(ignore_errors=True)
            raise PlaybackUnavailable(f"Cannot create the take file ({_first_line(exc)}); check free disk "
                                      "space and the data folder's permissions.") from exc
        self._stream = stream
        self._last_data = time.monotonic()
        self._recording = True
        try:
            stream.start()
        except Exception as exc:  # noqa: BLE001 - PortAudio errors vary by host API
            self._recording = False
            self._close_stream()
            self.writer.close()
            PendingTake(self.writer.path).discard()
            self.writer = None
            raise PlaybackUnavailable(f"Cannot start recording from {device.label}: {_first_line(exc)}.") from exc
        return device

    def drain(self) -> MeterReading:
        """Move what the callback captured to disk and through the meter; check the device. Call it often."""
        if self._ring is None or self.writer is None or self.meter is None:
            return MeterReading.silent(1)
        block = self._ring.read()
        now = time.monotonic()
        if len(block):
            self._last_data = now
            self.meter.process(block)
            room = self.writer.max_frames - self.writer.frames
            try:
                self.writer.write(block[:room])
                if self._recording:
                    self.writer.flush_if_due()
            except (OSError, RuntimeError) as exc:  # disk full, file system gone (LibsndfileError is a RuntimeError)
                self._fail(f"Recording stopped: cannot write the take to disk ({_first_line(exc)}); the take is "
                           f"kept up to {self.writer.flushed_seconds:.1f} s in {self.writer.path}.", disk_failed=True)
                return self.meter.reading
            if len(block) > room and self._recording:
                self._fail(f"Recording stopped at the longest take a WAV file holds ({self.seconds / 3600:.1f} h); "
                           "the take is kept. Press Record again to go on in a new take.")
        if self._recording:
            self._check_device(now)
        return self.meter.reading

    def drain_until(self, seconds: float, interval: float = 0.02) -> MeterReading:
        """Drain on this thread until the take holds `seconds` (or a fault ends it); for scripts and the CLI."""
        while self._recording and self.seconds < seconds:
            time.sleep(interval)
            self.drain()
        return self.drain()

    def stop(self) -> RecordedTake:
        """End the take (what the device delivered up to now is kept) and return it."""
        if self.writer is None:
            raise RuntimeError("not recording")
        self._stopping = True
        self._recording = False
        self._close_stream()
        self.drain()  # the last blocks the callback wrote
        writer, self.writer = self.writer, None
        dropped = self.dropped_frames
        try:
            if self.fault or dropped:
                writer.update_note(fault=self.fault, dropped_frames=dropped)
            path = writer.close()
        except (OSError, RuntimeError):
            path = writer.path  # a failing disk: the file reads back up to its last flush
        pending = open_pending(path)
        clip = pending.load() if pending.frames else Clip(np.zeros((0, writer.channels), np.float32), writer.rate)
        return RecordedTake(clip=clip, path=path, device=writer.note["device"], sample_rate=writer.rate,
                            channels=writer.channels, started=writer.note["started"], fault=self.fault,
                            dropped_frames=dropped)

    def close(self) -> Optional[RecordedTake]:
        return self.stop() if self.writer is not None else None

    # ---- internals --------------------------------------------------------------------------------------
    def _open_stream(self, sd, device: AudioDevice, channels: int):
        """Open at the wanted rate (48 kHz unless told), else at the device's own rate."""
        errors = []
        for rate in dict.fromkeys([int(self.rate_wanted or DEFAULT_RATE), int(device.default_rate)]):
            try:
                stream = sd.InputStream(device=device.index, samplerate=rate, channels=channels, dtype="float32",
                                        callback=self._callback, finished_callback=self._finished)
                return stream, rate
            except Exception as exc:  # noqa: BLE001 - PortAudioError, ValueError for bad settings
                errors.append(_first_line(exc))
        raise PlaybackUnavailable(f"Cannot open audio input {device.label}: {errors[-1]}; "
                                  "choose another input in Settings > Audio input.")

    def _callback(self, indata, frames, time_info, status) -> None:
        # PortAudio's thread: copy into the ring, count overflows, nothing else.
        if status and status.input_overflow:
            self._overflows += 1
        self._ring.write(indata)

    def _finished(self) -> None:
        # PortAudio's thread, once the stream is inactive (our stop, or the device went away).
        self._stream_ended = True

    def _check_device(self, now: float) -> None:
        label = self.input.label if self.input else "the input"
        if self._stream_ended and not self._stopping:
            self._fail(f"Recording stopped: {label} went away (unplugged or taken by another program); "
                       f"the take is kept up to that moment ({self.seconds:.1f} s).")
            return
        stream = self._stream
        try:
            active = stream is not None and stream.active
        except Exception as exc:  # noqa: BLE001 - a vanished device can make even this query fail
            self._fail(f"Recording stopped: {label} failed ({_first_line(exc)}); "
                       f"the take is kept up to that moment ({self.seconds:.1f} s).")
            return
        if not active and not self._stopping:
            self._fail(f"Recording stopped: {label} stopped delivering audio; "
                       f"the take is kept up to that moment ({self.seconds:.1f} s).")
        elif now - self._last_data > self.stall_seconds:
            self._fail(f"Recording stopped: no audio from {label} for {self.stall_seconds:.0f} s (disconnected?); "
                       f"the take is kept up to that moment ({self.seconds:.1f} s).")

    def _fail(self, message: str, disk_failed: bool = False) -> None:
        self.fault = message
        self._recording = False
        if self.writer is not None and not disk_failed:
            # The take is on disk before the stream is closed: a driver can hang in that close.
            try:
                if self._ring is not None:  # anything that arrived just before the fault
                    self.writer.write(self._ring.read(self.writer.max_frames - self.writer.frames))
                self.writer.flush()
                self.writer.update_note(fault=message)
            except (OSError, RuntimeError):
                pass  # the disk is failing too: what was flushed stays readable
        self._close_stream()

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        close_stream(stream)


def input_devices() -> list[AudioDevice]:
    """Inputs for a Settings menu; [] when there are none. Raises PlaybackUnavailable without PortAudio."""
    return list_input_devices()
