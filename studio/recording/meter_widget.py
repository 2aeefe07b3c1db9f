"""A level meter: one horizontal bar per channel (RMS solid, peak lighter), a peak-hold tick, a clip light, and a
dBFS scale under the bars.

It only paints the last `core.devices.meter.MeterReading` it was given (the recording controller hands one
over from its drain timer); clicking the clip light clears it (`clip_reset_requested`).
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.devices.meter import FLOOR_DB, MeterReading

RANGE_DB = 60.0  # the bar spans -60 dBFS .. 0 dBFS
GREEN, AMBER, RED = QColor("#3cb371"), QColor("#e0b030"), QColor("#d04040")
AMBER_DB, RED_DB = -12.0, -3.0
CLIP_LIGHT = 14  # px
SCALE_MARKS_DB = (-60, -48, -36, -24, -12, -6, -3, 0)  # the dB scale under the bars
SCALE_HEIGHT = 12  # px


def fraction(db: float) -> float:
    """Where a level sits along the bar, 0 (RANGE_DB below full scale or less) to 1 (0 dBFS)."""
    return min(1.0, max(0.0, (db + RANGE_DB) / RANGE_DB))


def colour_for(db: float) -> QColor:
    return RED if db >= RED_DB else AMBER if db >= AMBER_DB else GREEN


class LevelMeterWidget(QWidget):
    clip_reset_requested = Signal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("levelMeter")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Input level: bar = RMS, lighter = peak, tick = peak hold. The light turns red on a "
                        "clip; click it to clear.")
        self._reading = MeterReading.silent(2)

    # ---- state ---------------------------------------------------------------------------------------
    def set_reading(self, reading: MeterReading) -> None:
        self._reading = reading
        self.update()

    def reading(self) -> MeterReading:
        return self._reading

    def reset(self, channels: int = 2) -> None:
        self.set_reading(MeterReading.silent(channels))

    @property
    def clip_lit(self) -> bool:
        return self._reading.any_clipped

    def levels_text(self) -> str:
        """The levels as words (accessible name and tests): peak and hold per channel, and the clip state."""
        parts = [f"ch{i + 1} peak {p:.1f} dB hold {h:.1f} dB"
                 for i, (p, h) in enumerate(zip(self._reading.peak_db, self._reading.hold_db))]
        return "; ".join(parts) + ("; CLIP" if self.clip_lit else "")

    # ---- geometry ------------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(240, 8 + 10 * max(1, len(self._reading.peak_db)) + SCALE_HEIGHT)

    def minimumSizeHint(self) -> QSize:
        return QSize(80, 8 + 6 * max(1, len(self._reading.peak_db)) + SCALE_HEIGHT)

    def bar_rect(self) -> QRectF:
        return QRectF(2, 2, max(1, self.width() - CLIP_LIGHT - 8), self.height() - 4 - SCALE_HEIGHT)

    def scale_marks(self) -> list[tuple[float, str]]:
        """(x, label) of the dB marks drawn under the bars; marks too close to the one before are left out."""
        bar, out, last = self.bar_rect(), [], None
        width = self.fontMetrics().horizontalAdvance("-60") + 4
        for db in reversed(SCALE_MARKS_DB):  # 0 dB always shows; crowded low marks give way
            x = bar.left() + fraction(db) * bar.width()
            if last is None or last - x >= width:
                out.append((x, f"{db}"))
                last = x
        return sorted(out)

    def clip_light_rect(self) -> QRectF:
        return QRectF(self.width() - CLIP_LIGHT - 2, (self.height() - CLIP_LIGHT) / 2, CLIP_LIGHT, CLIP_LIGHT)

    def hold_x(self, channel: int) -> float:
        """The peak-hold tick's x position for a channel (what a user reads as 'the loudest lately')."""
        bar = self.bar_rect()
        return bar.left() + fraction(self._reading.hold_db[channel]) * bar.width()

    # ---- events --------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if self.clip_light_rect().adjusted(-4, -4, 4, 4).contains(event.position()):
            self.clip_reset_requested.emit()
        super().mousePressEvent(event)

    def paintEvent(self, event) -> None:
        reading = self._reading
        channels = max(1, len(reading.peak_db))
        painter = QPainter(self)
        bar = self.bar_rect()
        painter.fillRect(bar, QColor("#202020"))
        lane = bar.height() / channels
        for ch in range(channels):
            top = bar.top() + ch * lane + 1
            height = max(1.0, lane - 2)
            peak = fraction(reading.peak_db[ch]) * bar.width()
            rms = fraction(reading.rms_db[ch]) * bar.width()
            light = QColor(colour_for(reading.peak_db[ch]))
            light.setAlpha(110)
            painter.fillRect(QRectF(bar.left(), top, peak, height), light)
            painter.fillRect(QRectF(bar.left(), top, rms, height), colour_for(reading.rms_db[ch]))
            if reading.hold_db[ch] > FLOOR_DB:
                x = self.hold_x(ch)
                painter.fillRect(QRectF(x - 1, top, 2, height), colour_for(reading.hold_db[ch]).lighter(140))
        painter.setPen(QColor("#9aa4ae"))
        font = painter.font()
        font.setPixelSize(SCALE_HEIGHT - 2)
        painter.setFont(font)
        for x, label in self.scale_marks():
            painter.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 3))
            text_width = painter.fontMetrics().horizontalAdvance(label)
            left = min(max(0.0, x - text_width / 2), bar.right() - text_width)
            painter.drawText(QRectF(left, bar.bottom() + 2, text_width + 2, SCALE_HEIGHT), label)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(RED if self.clip_lit else QColor("#503030"))
        painter.drawEllipse(self.clip_light_rect())
        painter.end()
        self.setAccessibleName(self.levels_text())
