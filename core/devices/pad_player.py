"""A low-latency mixer for pads: one output stream kept open, a voice per pad, triggers from any thread.

Qt-free. Opening a stream per note would cost tens of milliseconds, so the stream stays open (small blocks,
PortAudio's low latency) and plays silence between notes. `trigger` and `release` only put a command on a
deque; the audio callback takes the commands, then mixes the voices. Clips are converted to the stream's
rate and channels when a pad is loaded, never at note time.

    player = PadPlayer()            # raises PlaybackUnavailable (one line) without an output device
    player.load(slot, clip)         # slot: any hashable key (core.devices.pads uses the pad's index)
    player.trigger(slot, gain=velocity_gain(100))
    player.release(slot)            # gate mode: a 5 ms fade, then silence
    player.onsets                   # (slot, DAC time of the block where each voice started), for the benchmark
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Hashable, Optional

import numpy as np

from core.audio.clip import Clip, resample
from core.audio.downmix import downmix

from .playback import DeviceChoice, PlaybackUnavailable, _first_line, backend, resolve_device

RATE = 48_000
BLOCK = 512  # 10.7 ms at 48 kHz: each callback (which needs the GIL) makes enough sound to ride out a busy spell
# Output buffer asked of PortAudio. The callback is Python: while a generation runs it waits for the GIL (threads
# switch every 5 ms, longer under load), and PortAudio's "low" latency (11 ms granted on PulseAudio) underran: 1,353
# ALSA console lines in one session. With a tiny-model generation running on a loaded 2-core machine
# (benchmarks/bench_pad_underruns.py, 30 s of pads each, 128-frame blocks): "low" 56 underruns/min, 0.04 s 48/min,
# 0.08 s none; with 512-frame blocks "low" 20/min, 0.08 s none.
PAD_LATENCY = 0.08
RELEASE_SECONDS = 0.005
MAX_VOICES = 32


class _Voice:
    __slots__ = ("slot", "data", "pos", "gain", "release_left")

    def __init__(self, slot, data: np.ndarray, gain: float) -> None:
        self.slot, self.data, self.pos, self.gain, self.release_left = slot, data, 0, gain, -1


class PadPlayer:
    def __init__(self, device: DeviceChoice = None, rate: int = RATE, block: int = BLOCK,
                 latency=PAD_LATENCY) -> None:
        self.device = device
        self.rate = rate
        self.block = block
        self.latency_asked = latency  # seconds, or PortAudio's "low" / "high"
        self.underruns = 0  # blocks the output ran dry before this callback (PortAudio's output underflow)
        self.channels = 2
        self.output_gain = 1.0
        self._samples: dict[Hashable, np.ndarray] = {}
        self._commands: collections.deque = collections.deque()
        self._voices: list[_Voice] = []
        self._stream = None
        self._lock = threading.Lock()
        self.onsets: collections.deque = collections.deque(maxlen=256)
        self.label = ""

    # ---- stream ----------------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._stream is not None

    def open(self) -> None:
        """Open the output (idempotent). Raises PlaybackUnavailable naming the device and the reason."""
        with self._lock:
            if self._stream is not None:
                return
            sd = backend()
            device = resolve_device(self.device)
            self.channels = 2 if device.max_output_channels >= 2 else 1
            try:
                stream = sd.OutputStream(device=device.index, samplerate=self.rate, channels=self.channels,
                                         dtype="float32", blocksize=self.block, latency=self.latency_asked,
                                         callback=self._callback)
                stream.start()
            except Exception as exc:  # noqa: BLE001 - PortAudioError and friends
                raise PlaybackUnavailable(f"Cannot open pad output {device.label}: {_first_line(exc)}; "
                                          "choose another output device.") from exc
            self._stream = stream
            self.label = device.label
            self._samples = {k: self._fit_channels(v) for k, v in self._samples.items()}

    def close(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
            if stream is not None:
                try:
                    stream.abort(ignore_errors=True)
                    stream.close(ignore_errors=True)
                except Exception:  # noqa: BLE001
                    pass
            self._voices = []
            self._commands.clear()

    @property
    def latency(self) -> float:
        return float(self._stream.latency) if self._stream is not None else 0.0

    # ---- pads ------------------------------------------------------------------------------------------
    def load(self, slot: Hashable, clip: Optional[Clip]) -> None:
        """Make `clip` what `slot` plays (None empties it); converted here, off the audio thread."""
        if clip is None:
            self._samples.pop(slot, None)
            return
        samples = resample(clip.samples, clip.sample_rate, self.rate) if clip.sample_rate != self.rate \
            else clip.samples
        self._samples[slot] = self._fit_channels(np.ascontiguousarray(samples, dtype=np.float32))

    def _fit_channels(self, samples: np.ndarray) -> np.ndarray:
        if samples.shape[1] == self.channels:
            return samples
        if samples.shape[1] == 1:
            return np.ascontiguousarray(np.repeat(samples, self.channels, axis=1))
        return np.ascontiguousarray(downmix(samples, self.channels))  # every channel counts (core.audio.downmix)

    def has(self, slot: Hashable) -> bool:
        return slot in self._samples

    def trigger(self, slot: Hashable, gain: float = 1.0) -> bool:
        """Start `slot` from its beginning (a playing voice of it restarts). False when the slot is empty."""
        data = self._samples.get(slot)
        if data is None:
            return False
        self._commands.append(("start", slot, data, float(gain), time.monotonic()))
        return True

    def release(self, slot: Hashable) -> None:
        self._commands.append(("release", slot, None, 0.0, 0.0))

    def stop_all(self) -> None:
        self._commands.append(("stop_all", None, None, 0.0, 0.0))

    @property
    def playing(self) -> set:
        return {v.slot for v in self._voices}

    # ---- audio thread ----------------------------------------------------------------------------------
    def _callback(self, outdata, frames, time_info, status) -> None:
        # PortAudio's thread: apply queued commands, mix, advance. No allocation beyond the block.
        if status.output_underflow:
            self.underruns += 1
        started = []
        while self._commands:
            kind, slot, data, gain, _ = self._commands.popleft()
            if kind == "start":
                self._voices = [v for v in self._voices if v.slot != slot][-MAX_VOICES + 1:]
                self._voices.append(_Voice(slot, data, gain))
                started.append(slot)
            elif kind == "release":
                for voice in self._voices:
                    if voice.slot == slot and voice.release_left < 0:
                        voice.release_left = int(RELEASE_SECONDS * self.rate)
            elif kind == "stop_all":
                self._voices = []
        outdata.fill(0)
        alive = []
        for voice in self._voices:
            chunk = voice.data[voice.pos:voice.pos + frames]
            n = len(chunk)
            if voice.release_left >= 0:
                n = min(n, voice.release_left)
                ramp = np.linspace(voice.release_left / (RELEASE_SECONDS * self.rate), 0.0, n,
                                   dtype=np.float32)[:, None] if n else None
                if n:
                    outdata[:n] += chunk[:n] * (voice.gain * self.output_gain) * ramp
                voice.release_left -= n
            elif n:
                outdata[:n] += chunk * (voice.gain * self.output_gain)
            voice.pos += n
            if n == frames and voice.release_left != 0:
                alive.append(voice)
        self._voices = alive
        np.clip(outdata, -1.0, 1.0, out=outdata)
        if started:
            dac = time.monotonic() + (time_info.outputBufferDacTime - time_info.currentTime)
            for slot in started:
                self.onsets.append((slot, dac))
