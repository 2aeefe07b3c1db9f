"""The waveform's time ruler: tick labels in seconds, or m:ss once the view reaches a minute."""

from __future__ import annotations

import pyqtgraph as pg


class TimeAxis(pg.AxisItem):
    """The time ruler: m:ss for long views, seconds with as many decimals as the tick spacing needs otherwise."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # pyqtgraph's own SI scaling would show a 0.14 s clip in milliseconds, which the m:ss style then read as
        # "0:50, 1:40" under "Time (x0.001)": the ruler always counts seconds instead.
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values, scale, spacing):
        # one style along the whole ruler: pyqtgraph asks for major and minor ticks separately, so the visible
        # range decides, not the values of one call (a minute-long view read "10, 0:20, 30, 0:40")
        shown = [abs(v) for v in self.range] + [abs(v) for v in values]
        minutes = bool(values) and max(shown) * scale >= 60
        return [format_time(value * scale, spacing * scale, minutes) for value in values]


def format_time(seconds: float, spacing: float, minutes: bool = False) -> str:
    """Seconds as "12.5", or as "m:ss(.fff)" when `minutes` or past a minute; decimals follow `spacing`."""
    decimals = 0  # as many as the tick spacing needs: 0.25 s ticks show 2
    while decimals < 6 and spacing > 0 and abs(spacing * 10**decimals - round(spacing * 10**decimals)) > 1e-6:
        decimals += 1
    if minutes or seconds >= 60:
        minutes, rest = divmod(max(seconds, 0.0), 60.0)
        width = 2 if decimals == 0 else 3 + decimals
        return f"{int(minutes)}:{rest:0{width}.{decimals}f}"
    return f"{seconds:.{decimals}f}"


DB_MARKS = (0.0, -6.0, -12.0, -18.0, -24.0, -36.0, -48.0, -60.0)
MIN_MARK_PX = 14  # marks closer than this on screen are left out


class LevelAxis(pg.AxisItem):
    """The waveform's level scale: dBFS marks on each channel lane (0 at the lane's top and bottom, -6 at half
    height...), following the amplitude zoom. `lanes` and `zoom` are set by the view."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.enableAutoSIPrefix(False)
        self.lanes, self.lane_height, self.zoom = 1, 2.2, 1.0

    def marks(self, pixels_per_unit: float = 0.0) -> list[tuple[float, str]]:
        """(y, label) for every mark, on the upper half of each lane (the lower half mirrors it): the dB levels
        at least MIN_MARK_PX apart on screen (given `pixels_per_unit`), and -∞ at the lane's centre line."""
        out = []
        gap = MIN_MARK_PX / pixels_per_unit if pixels_per_unit > 0 else 0.12
        for lane in range(self.lanes):
            centre = -lane * self.lane_height
            last = None
            for db in DB_MARKS:
                height = self.zoom * 10 ** (db / 20)
                if height > 1.0 + 1e-9 or (last is not None and last - height < gap) or height < gap:
                    continue
                last = height
                out.append((centre + height, f"{db:.0f}"))
            out.append((centre, "-∞"))
        return out

    def _pixels_per_unit(self) -> float:
        low, high = self.range
        return self.geometry().height() / (high - low) if high > low and self.geometry().height() > 0 else 0.0

    def tickValues(self, minVal, maxVal, size):
        per_unit = size / (maxVal - minVal) if maxVal > minVal else 0.0
        values = sorted(y for y, _ in self.marks(per_unit) if minVal <= y <= maxVal)
        return [(1.0, values)]

    def tickStrings(self, values, scale, spacing):
        labels = dict((round(y, 6), text) for y, text in self.marks(self._pixels_per_unit()))
        return [labels.get(round(v, 6), "") for v in values]
