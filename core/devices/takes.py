"""Takes on disk: a recording is streamed into a pending take file as it is captured, and survives a kill.

A take is a 32-bit float WAV (lossless for what PortAudio delivers) plus a JSON note beside it (device, rate,
channels, start time), both in the recordings folder (`data_dir()/recordings`). The writer flushes at least
once a second; libsndfile rewrites the WAV header on every flush, so after a crash or `kill -9` the file reads
back up to the last flush (and usually beyond). A take stays "pending" until the app has stored it in the
library and discards the file; whatever is still pending at the next start was interrupted and is offered
back (`pending_takes()`).

    writer = TakeWriter.create(rate=48_000, channels=2, device="USB mic (ALSA)")
    writer.write(block); writer.flush_if_due()
    path = writer.close()
    for take in pending_takes():       # next start
        clip = take.load(); ...; take.discard()
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import numpy as np

from core.audio.clip import Clip
from core.errors import InputError, first_line
from core.paths import data_dir

RECORDINGS_FOLDER = "recordings"
FLUSH_SECONDS = 1.0
SUBTYPE = "FLOAT"
WAV_DATA_LIMIT = 0xFFFFFFFF - 4096  # RIFF sizes are 32-bit: about 3.1 h of 48 kHz stereo float


def recordings_dir() -> Path:
    folder = data_dir() / RECORDINGS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def note_path(audio_path: Path) -> Path:
    return audio_path.with_suffix(".json")


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(temp, path)


class TakeWriter:
    """Appends blocks to a take file; flushes (header included) at least every FLUSH_SECONDS."""

    def __init__(self, path: Path, rate: int, channels: int, note: dict[str, Any],
                 flush_seconds: float = FLUSH_SECONDS) -> None:
        import soundfile as sf

        self.path = Path(path)
        self.rate = int(rate)
        self.channels = int(channels)
        self.note = dict(note)
        self.flush_seconds = flush_seconds
        self.frames = 0
        self._flushed_frames = 0
        self._last_flush = time.monotonic()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _write_json_atomic(note_path(self.path), self.note)
        self._handle = open(self.path, "w+b")
        try:
            self._file = sf.SoundFile(self._handle, "w", samplerate=self.rate, channels=self.channels,
                                      format="WAV", subtype=SUBTYPE)
        except Exception:
            self._handle.close()
            raise
        self._file.flush()

    @classmethod
    def create(cls, rate: int, channels: int, device: str, folder: Optional[Path] = None,
               flush_seconds: float = FLUSH_SECONDS, **extra: Any) -> "TakeWriter":
        """A new take file named by its UTC start time in `folder` (the recordings folder by default)."""
        started = datetime.now(timezone.utc)
        stamp = started.strftime("%Y%m%d-%H%M%S")
        path = Path(folder or recordings_dir()) / f"take-{stamp}-{uuid.uuid4().hex[:6]}.wav"
        note = {"device": device, "sample_rate": int(rate), "channels": int(channels),
                "started": started.isoformat(timespec="seconds"), **extra}
        return cls(path, rate, channels, note, flush_seconds)

    @property
    def seconds(self) -> float:
        return self.frames / self.rate

    @property
    def max_frames(self) -> int:
        """The most frames one take file can hold."""
        return WAV_DATA_LIMIT // (4 * self.channels)

    @property
    def flushed_frames(self) -> int:
        """What a kill right now would keep, at least."""
        return self._flushed_frames

    @property
    def flushed_seconds(self) -> float:
        return self._flushed_frames / self.rate

    def write(self, block: np.ndarray) -> None:
        """Append frames; OSError when the disk takes no more (full, too large, gone)."""
        if len(block):
            try:
                self._file.write(np.asarray(block, dtype=np.float32))
            except AssertionError as exc:  # soundfile asserts on a short write: the disk took only part
                raise OSError("the disk is full or the file cannot grow") from exc
            self.frames += len(block)

    def flush(self) -> None:
        """Push everything written to the file (header updated) and to the disk."""
        self._file.flush()
        self._handle.flush()
        try:
            os.fsync(self._handle.fileno())
        except OSError:
            pass  # a file system without fsync still got the data from flush()
        self._flushed_frames = self.frames
        self._last_flush = time.monotonic()

    def flush_if_due(self) -> bool:
        if time.monotonic() - self._last_flush >= self.flush_seconds and self.frames > self._flushed_frames:
            self.flush()
            return True
        return False

    def update_note(self, **fields: Any) -> None:
        self.note.update(fields)
        _write_json_atomic(note_path(self.path), self.note)

    def close(self) -> Path:
        if not self._file.closed:
            try:
                self._file.close()
            finally:
                self._handle.close()
            self._flushed_frames = self.frames
        return self.path


@dataclass
class PendingTake:
    """A take file in the recordings folder that has not been stored in the library yet."""

    path: Path
    note: dict[str, Any] = field(default_factory=dict)
    frames: int = 0
    sample_rate: int = 0
    error: str = ""  # why it cannot be read, if it cannot

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    @property
    def device(self) -> str:
        return str(self.note.get("device") or "unknown input")

    @property
    def started(self) -> str:
        return str(self.note.get("started") or "")

    def describe(self) -> str:
        when = self.started.replace("T", " ").replace("+00:00", " UTC")
        return f"{self.seconds:.1f} s from {self.device}" + (f", started {when}" if when else "")

    def load(self) -> Clip:
        import soundfile as sf

        try:
            samples, rate = sf.read(str(self.path), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            raise InputError(f"The interrupted take {self.path.name} cannot be read ({first_line(exc)}).") from exc
        if len(samples) == 0:
            raise InputError(f"The interrupted take {self.path.name} holds no audio.")
        return Clip(samples, int(rate))

    def discard(self) -> None:
        for path in (self.path, note_path(self.path)):
            path.unlink(missing_ok=True)


def open_pending(path: Path) -> PendingTake:
    import soundfile as sf

    path = Path(path)
    try:
        note = json.loads(note_path(path).read_text())
    except (OSError, ValueError):
        note = {}
    take = PendingTake(path, note if isinstance(note, dict) else {})
    try:
        info = sf.info(str(path))
        take.frames, take.sample_rate = int(info.frames), int(info.samplerate)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        take.error = first_line(exc)
    return take


def pending_takes(folder: Optional[Path] = None, exclude: tuple[Path, ...] = ()) -> list[PendingTake]:
    """Take files left over (oldest first), except `exclude` (the take being recorded now).

    A take killed before its first sample holds nothing to offer: it is removed here.
    """
    folder = Path(folder or recordings_dir())
    skip = {Path(p).resolve() for p in exclude}
    takes = []
    for path in sorted(p for p in folder.glob("take-*.wav") if p.resolve() not in skip):
        take = open_pending(path)
        if take.frames == 0 and not take.error:
            take.discard()
        else:
            takes.append(take)
    return takes
