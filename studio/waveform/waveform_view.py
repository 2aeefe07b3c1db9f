"""WaveformView: a zoomable waveform (or spectrogram) of one clip with a time ruler, playhead and selection.

Long clips stay smooth because only the visible range is drawn, as min/max columns from core.audio.overview
(about one column per screen pixel), so a 6-minute stereo 44.1 kHz file costs the same to draw as a 1-second one.

    view = WaveformView()
    view.set_clip(clip)                  # draws the whole clip, one lane per channel
    view.zoom(4.0)                       # or mouse wheel / + - keys; Shift+wheel and Left/Right scroll
    view.set_view(1.0, 3.0)              # show 1 s .. 3 s; view.view_range() reads it back; view.fit()
    view.set_playhead(2.5)
    view.set_cursor(1.0)                 # the edit/play cursor (a click puts it there); view.cursor() reads it
    view.set_clip(edited, keep_view=True)  # an edited version of the same clip: view, selection, cursor stay put
    view.zoom_to_selection()
    view.attach_player(player)           # a core.devices.playback.Player
    view.follow_playback()               # call after player.play(view.clip()): a QTimer polls player.position
    view.selection()                     # (start, end) seconds or None; drag with the left button to select
    view.selection_changed.connect(...)  # emits (start, end) or None
    view.seek_requested.connect(...)     # a click on the waveform: seconds
    view.set_spectrogram_visible(True)   # or the S key
    view.set_amplitude_zoom(4.0)         # magnify quiet clips (Up / Down keys, Ctrl+wheel); peaks clip at the lane

Mouse: left drag selects (inside a selection too: a new one starts; Ctrl+drag inside moves it, its edges drag; it
never leaves the clip), Shift+left or middle drag pans, wheel zooms around the pointer, click places the cursor
(and seeks).
Keys: + / - zoom, Left / Right scroll, Home / End, 0 fits, Up / Down amplitude zoom, S toggles the spectrogram,
Escape clears the selection.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core.audio.clip import Clip
from core.audio.overview import Overview
from core.audio.spectrogram import spectrogram_db
from studio.waveform.time_ruler import LevelAxis, TimeAxis
from studio.waveform.waveform_input import SelectionRegion, WaveViewBox, key_actions

LANE_HEIGHT = 2.2          # y units per channel lane (a lane spans -1..1 plus a gap)
MIN_VIEW_FRAMES = 64       # the deepest zoom shows this many samples
MAX_COLUMNS = 4000         # columns drawn per lane at most, whatever the widget's width
FOLLOW_INTERVAL_MS = 30
MAX_AMPLITUDE_ZOOM = 256.0
SPECTROGRAM_COLUMNS = 6000
WAVE_PEN = pg.mkPen("#5fb3f0", width=1)
MIN_HEIGHT = 150  # px: the waveform stays readable at 1024x640 with the Script dock and job rows open


class WaveformView(QWidget):
    selection_changed = Signal(object)  # (start, end) in seconds, or None when cleared
    seek_requested = Signal(float)       # seconds, from a click on the waveform
    cursor_changed = Signal(float)       # seconds: where playback without a selection starts

    def __init__(self, parent: Optional[QWidget] = None):
        super().__init__(parent)
        self.setObjectName("waveformView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumHeight(MIN_HEIGHT)
        self._clip: Optional[Clip] = None
        self._overview: Optional[Overview] = None
        self._player = None
        self._spectrogram_visible = False
        self._spectrogram_ready = False
        self._selection: Optional[tuple[float, float]] = None
        self._amplitude_zoom = 1.0
        self._cursor_seconds = 0.0

        self._box = WaveViewBox(self)
        self._level_axis = LevelAxis("left")
        self.plot = pg.PlotWidget(viewBox=self._box, axisItems={"bottom": TimeAxis("bottom"), "left": self._level_axis})
        self.plot.setObjectName("waveformPlot")
        self.plot.setBackground("#1e2228")
        item = self.plot.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=True, y=False)
        item.setLabel("bottom", "Time")
        item.setLabel("left", "dBFS")
        item.hideAxis("left")  # shown with a clip
        item.showGrid(x=True, y=False, alpha=0.15)
        self._box.disableAutoRange()
        self._curves: list[pg.PlotDataItem] = []

        self._image = pg.ImageItem()
        self._image.setColorMap(pg.colormap.get("inferno"))
        self._image.setVisible(False)
        self._image.setZValue(-10)
        item.addItem(self._image)

        self._region = SelectionRegion(brush=pg.mkBrush(95, 179, 240, 50), pen=pg.mkPen("#5fb3f0"))
        self._region.setZValue(10)
        self._region.setVisible(False)
        self._region.sigRegionChanged.connect(self._region_moved)
        item.addItem(self._region, ignoreBounds=True)

        self._playhead = pg.InfiniteLine(pos=0.0, angle=90, movable=False, pen=pg.mkPen("#f0c05f", width=2))
        self._playhead.setZValue(20)
        item.addItem(self._playhead, ignoreBounds=True)
        self._cursor = pg.InfiniteLine(pos=0.0, angle=90, movable=False,
                                       pen=pg.mkPen("#e8e8e8", width=1, style=Qt.PenStyle.DashLine))
        self._cursor.setZValue(15)
        item.addItem(self._cursor, ignoreBounds=True)

        self._box.sigXRangeChanged.connect(self._redraw)
        self._box.sigResized.connect(self._redraw)

        self._follow = QTimer(self)
        self._follow.setInterval(FOLLOW_INTERVAL_MS)
        self._follow.timeout.connect(self._follow_tick)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)

    # --- clip ------------------------------------------------------------------------------------------
    def set_clip(self, clip: Optional[Clip], keep_view: bool = False) -> None:
        """Show `clip` whole (None clears the view). The selection is cleared and the playhead and cursor go to 0.

        With `keep_view` (an edited version of the clip shown), the selection, cursor and playhead stay where they
        were, clamped to the new length, and so does the user's zoom while it still fits; a view of the whole clip,
        or one past the new end, fits the new length."""
        kept = (self._view_to_keep(clip), self._selection, self._cursor_seconds, self.playhead()) \
            if keep_view and self._clip is not None and clip is not None else None
        for curve in self._curves:
            self.plot.getPlotItem().removeItem(curve)
        self._curves = []
        self._clip = clip
        self._overview = Overview(clip.samples) if clip is not None else None
        self._spectrogram_ready = False
        self._image.clear()
        self.clear_selection()
        self.set_playhead(0.0)
        if clip is None:
            self.plot.getPlotItem().hideAxis("left")
            return
        for _ in range(clip.channels):
            curve = pg.PlotDataItem(pen=WAVE_PEN, autoDownsample=False, clipToView=False, skipFiniteCheck=True)
            curve.setVisible(not self._spectrogram_visible)
            self.plot.getPlotItem().addItem(curve)
            self._curves.append(curve)
        duration = clip.seconds
        min_range = min(duration, MIN_VIEW_FRAMES / clip.sample_rate)
        self._box.setLimits(xMin=0.0, xMax=duration, minXRange=min_range, maxXRange=duration)
        self._region.setBounds((0.0, duration))
        self._apply_y_mode()
        if self._spectrogram_visible:
            self._ensure_spectrogram()
        self._box.setXRange(0.0, duration, padding=0.0)
        self.set_cursor(0.0)
        if kept is not None:
            view, selection, cursor, playhead = kept
            if view is not None:
                self.set_view(*view)
            if selection is not None:
                self.set_selection(*selection)
            self.set_cursor(cursor)
            self.set_playhead(playhead)
        self._redraw()

    def _view_to_keep(self, clip: Clip) -> Optional[tuple[float, float]]:
        """The user's zoom when it still fits the edited clip; None (fit the whole clip) when the view showed the
        whole clip before, or reaches past the new end (Extend loop, undoing a trim: the new length shows)."""
        low, high = self.view_range()
        whole = low <= 1e-6 and high >= self.duration - 1e-6
        if whole or high > clip.seconds + 1e-6:
            return None
        return low, high

    def clip(self) -> Optional[Clip]:
        return self._clip

    @property
    def duration(self) -> float:
        return self._clip.seconds if self._clip is not None else 0.0

    # --- view range ------------------------------------------------------------------------------------
    def view_range(self) -> tuple[float, float]:
        low, high = self._box.viewRange()[0]
        return float(low), float(high)

    def set_view(self, start: float, end: float) -> None:
        """Show `start`..`end` seconds, kept inside the clip and no narrower than MIN_VIEW_FRAMES samples."""
        if self._clip is None:
            return
        duration = self.duration
        span = float(np.clip(end - start, min(duration, MIN_VIEW_FRAMES / self._clip.sample_rate), duration))
        start = float(np.clip(start, 0.0, duration - span))
        self._box.setXRange(start, start + span, padding=0.0)

    def zoom(self, factor: float, center: Optional[float] = None) -> None:
        """Zoom in by `factor` (> 1) or out (< 1) around `center` seconds (the view's middle by default)."""
        low, high = self.view_range()
        center = (low + high) / 2 if center is None else center
        span = (high - low) / factor
        ratio = (center - low) / (high - low) if high > low else 0.5
        self.set_view(center - span * ratio, center - span * ratio + span)

    def scroll(self, fraction: float) -> None:
        """Move the view by `fraction` of its width (negative: earlier)."""
        low, high = self.view_range()
        shift = (high - low) * fraction
        self.set_view(low + shift, high + shift)

    def fit(self) -> None:
        self.set_view(0.0, self.duration)

    def zoom_to_selection(self) -> None:
        """Show exactly the selection (nothing happens without one)."""
        if self._selection is not None:
            self.set_view(*self._selection)

    def ensure_visible(self, seconds: float) -> None:
        """Scroll (never zoom) so that `seconds` is in view; a view that already shows it stays put."""
        low, high = self.view_range()
        if not low <= seconds <= high:
            span = high - low
            self.set_view(seconds - span / 2, seconds + span / 2)

    # --- drawing ---------------------------------------------------------------------------------------
    def drawn_point_count(self) -> int:
        """Points currently handed to the curves (bounded by the width, not the clip length)."""
        return sum(0 if c.xData is None else len(c.xData) for c in self._curves)

    def _columns_wanted(self) -> int:
        width = int(self._box.width()) if self._box.width() > 0 else 1000
        return int(np.clip(width, 100, MAX_COLUMNS))

    def _redraw(self, *_args) -> None:
        if self._overview is None or self._spectrogram_visible:
            return
        rate = self._clip.sample_rate
        low, high = self.view_range()
        view = self._overview.columns(int(np.floor(low * rate)), int(np.ceil(high * rate)) + 1,
                                      self._columns_wanted())
        for channel, curve in enumerate(self._curves):
            x, y = view.line(channel)
            if self._amplitude_zoom != 1.0:
                y = np.clip(y * self._amplitude_zoom, -1.0, 1.0)
            curve.setData(x / rate, y - channel * LANE_HEIGHT)

    def _apply_y_mode(self) -> None:
        item = self.plot.getPlotItem()
        if self._spectrogram_visible and self._clip is not None:
            top = self._clip.sample_rate / 2
            self._box.setLimits(yMin=0.0, yMax=top)
            self._box.setYRange(0.0, top, padding=0.0)
            item.showAxis("left")
            item.setLabel("left", "Frequency", units="Hz")
        else:
            channels = self._clip.channels if self._clip is not None else 1
            bottom = -1.0 - (channels - 1) * LANE_HEIGHT
            self._box.setLimits(yMin=bottom - 0.05, yMax=1.05)
            self._box.setYRange(bottom, 1.0, padding=0.02)
            self._level_axis.lanes, self._level_axis.lane_height = channels, LANE_HEIGHT
            self._level_axis.zoom = self._amplitude_zoom
            item.showAxis("left") if self._clip is not None else item.hideAxis("left")
            item.setLabel("left", "dBFS")  # the level scale: true level, as the card thumbnails show it
            self._level_axis.picture = None
            self._level_axis.update()

    # --- amplitude zoom ------------------------------------------------------------------------------------
    def amplitude_zoom(self) -> float:
        return self._amplitude_zoom

    def set_amplitude_zoom(self, factor: float) -> None:
        """Magnify the waveform vertically (1 = full scale fills the lane), from 1 to MAX_AMPLITUDE_ZOOM."""
        self._amplitude_zoom = float(np.clip(factor, 1.0, MAX_AMPLITUDE_ZOOM))
        self._apply_y_mode()  # the dB marks follow the zoom
        self._redraw()

    # --- spectrogram -----------------------------------------------------------------------------------
    def spectrogram_visible(self) -> bool:
        return self._spectrogram_visible

    def set_spectrogram_visible(self, visible: bool) -> None:
        self._spectrogram_visible = bool(visible)
        for curve in self._curves:
            curve.setVisible(not visible)
        if visible and self._clip is not None:
            self._ensure_spectrogram()
        self._image.setVisible(visible and self._clip is not None)
        self._apply_y_mode()
        self._redraw()

    def _ensure_spectrogram(self) -> None:
        if self._spectrogram_ready or self._clip is None:
            return
        image = spectrogram_db(self._clip.mono, SPECTROGRAM_COLUMNS)
        self._image.setImage(image, autoLevels=False, levels=(float(image.max()) - 80.0, float(image.max())))
        self._image.setRect(QRectF(0.0, 0.0, self.duration, self._clip.sample_rate / 2))
        self._spectrogram_ready = True

    # --- playhead --------------------------------------------------------------------------------------
    def playhead(self) -> float:
        return float(self._playhead.value())

    def set_playhead(self, seconds: float) -> None:
        self._playhead.setValue(float(np.clip(seconds, 0.0, self.duration)))

    def cursor(self) -> float:
        return self._cursor_seconds

    def set_cursor(self, seconds: float) -> None:
        seconds = float(np.clip(seconds, 0.0, self.duration))
        self._cursor.setValue(seconds)
        if seconds != self._cursor_seconds:
            self._cursor_seconds = seconds
            self.cursor_changed.emit(seconds)

    def attach_player(self, player) -> None:
        """The core.devices.playback.Player whose position the playhead follows (see follow_playback)."""
        self._player = player

    def follow_playback(self) -> None:
        """Poll the player until it stops; the playhead pages the view along when it runs off the right edge."""
        if self._player is not None:
            self._follow.start()

    def is_following(self) -> bool:
        return self._follow.isActive()

    def _follow_tick(self) -> None:
        player = self._player
        if player is None or self._clip is None or player.clip is not self._clip:
            self._follow.stop()
            return
        position = player.position
        self.set_playhead(position)
        low, high = self.view_range()
        if player.is_playing and not low <= position <= high:
            span = high - low
            self.set_view(position - 0.05 * span, position + 0.95 * span)
        if not player.is_playing:
            self._follow.stop()

    # --- selection -------------------------------------------------------------------------------------
    def selection(self) -> Optional[tuple[float, float]]:
        return self._selection

    def set_selection(self, start: float, end: float) -> None:
        start, end = sorted((float(np.clip(start, 0.0, self.duration)), float(np.clip(end, 0.0, self.duration))))
        if self._clip is None or end - start <= 0:
            self.clear_selection()
            return
        self._region.blockSignals(True)
        self._region.setRegion((start, end))
        self._region.blockSignals(False)
        self._region.setVisible(True)
        self._set_selection((start, end))

    def clear_selection(self) -> None:
        self._region.setVisible(False)
        self._set_selection(None)

    def _set_selection(self, value: Optional[tuple[float, float]]) -> None:
        if value != self._selection:
            self._selection = value
            if value is not None:
                self.set_cursor(value[0])  # as in Audacity: the cursor sits at the selection's start
            self.selection_changed.emit(value)

    def _region_moved(self) -> None:
        if self._region.isVisible():
            start, end = self._region.getRegion()
            if end > start:
                self._set_selection((float(start), float(end)))

    def _clicked_at(self, seconds: float) -> None:
        if self._clip is None:
            return
        self.clear_selection()
        seconds = float(np.clip(seconds, 0.0, self.duration))
        self.set_cursor(seconds)
        self.set_playhead(seconds)
        self.seek_requested.emit(seconds)

    # --- keys ------------------------------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:
        key = event.key()
        actions = key_actions(self)
        if key in actions and self._clip is not None:
            actions[key]()
            event.accept()
        else:
            super().keyPressEvent(event)  # Space and the rest go to the parent (play/stop lives there)
