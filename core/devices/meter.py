"""Level metering for recording: peak and RMS per block, peak hold and a latched clip indicator, per channel.

Fed with the blocks the recorder drains (never from the audio callback). Time is counted in samples, so a
meter behaves the same however often it is fed and tests are exact.

    meter = LevelMeter(rate=48_000, channels=2)
    reading = meter.process(block)      # block: float32 (frames, channels)
    reading.peak_db, reading.rms_db, reading.hold_db, reading.clipped
    meter.reset_clip()                  # the user clicked the clip light
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOOR_DB = -90.0          # what silence reads as (log of zero has no value)
CLIP_LEVEL = 0.999        # |sample| at or above this counts as a clip (about -0.01 dBFS)
HOLD_SECONDS = 1.5        # a peak stays marked this long...
FALL_DB_PER_SECOND = 20.0  # ...then the mark falls at this rate until a new peak catches it


def to_db(level: np.ndarray | float) -> np.ndarray:
    """Linear amplitude to dBFS, silence floored at FLOOR_DB."""
    level = np.asarray(level, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.maximum(20.0 * np.log10(np.maximum(level, 0.0)), FLOOR_DB)


@dataclass(frozen=True)
class MeterReading:
    """One block's levels, per channel, in dBFS; `clipped` stays True until reset_clip()."""

    peak_db: tuple[float, ...]
    rms_db: tuple[float, ...]
    hold_db: tuple[float, ...]
    clipped: tuple[bool, ...]

    @property
    def any_clipped(self) -> bool:
        return any(self.clipped)

    @classmethod
    def silent(cls, channels: int) -> "MeterReading":
        floor = (FLOOR_DB,) * channels
        return cls(floor, floor, floor, (False,) * channels)


class LevelMeter:
    def __init__(self, rate: int, channels: int, hold_seconds: float = HOLD_SECONDS,
                 fall_db_per_second: float = FALL_DB_PER_SECOND, clip_level: float = CLIP_LEVEL) -> None:
        self.rate = int(rate)
        self.channels = int(channels)
        self.hold_frames = int(round(hold_seconds * rate))
        self.fall_db_per_frame = fall_db_per_second / rate
        self.clip_level = clip_level
        self._hold_db = np.full(channels, FLOOR_DB)
        self._hold_age = np.zeros(channels, dtype=np.int64)  # frames since the held peak was set
        self._clipped = np.zeros(channels, dtype=bool)
        self.clip_count = 0  # samples at or above the clip level since the last reset
        self.reading = MeterReading.silent(channels)

    def process(self, block: np.ndarray) -> MeterReading:
        """Measure one block (frames, channels); update the hold and clip state; return the reading."""
        block = np.asarray(block, dtype=np.float32)
        if block.ndim == 1:
            block = block[:, None]
        if len(block) == 0:
            return self.reading
        magnitude = np.abs(block)
        peak = magnitude.max(axis=0)
        rms = np.sqrt(np.mean(np.square(block, dtype=np.float64), axis=0))
        peak_db = to_db(peak)

        # Age the held marks by this block, let the expired ones fall, then let new peaks replace them.
        self._hold_age += len(block)
        over = np.maximum(self._hold_age - self.hold_frames, 0)
        falling = over > 0
        fall = np.minimum(over, len(block)) * self.fall_db_per_frame
        self._hold_db = np.where(falling, np.maximum(self._hold_db - fall, FLOOR_DB), self._hold_db)
        new_peak = peak_db >= self._hold_db
        self._hold_db = np.where(new_peak, peak_db, self._hold_db)
        self._hold_age = np.where(new_peak, 0, self._hold_age)

        clips = (magnitude >= self.clip_level).sum(axis=0)
        self.clip_count += int(clips.sum())
        self._clipped |= clips > 0
        self.reading = MeterReading(tuple(float(x) for x in peak_db), tuple(float(x) for x in to_db(rms)),
                                    tuple(float(x) for x in self._hold_db), tuple(bool(x) for x in self._clipped))
        return self.reading

    def reset_clip(self) -> None:
        self._clipped[:] = False
        self.clip_count = 0
        self.reading = MeterReading(self.reading.peak_db, self.reading.rms_db, self.reading.hold_db,
                                    (False,) * self.channels)
