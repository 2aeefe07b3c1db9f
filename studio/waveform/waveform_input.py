"""The waveform view's mouse and keys: left drag selects (also inside a selection: a new one starts, as in every
editor; Ctrl+drag inside moves it, its edges drag), a click seeks, Shift/middle drag pans, the wheel zooms time
(Shift+wheel scrolls, Ctrl+wheel zooms amplitude); `key_actions` maps the keyboard shortcuts."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt


class SelectionRegion(pg.LinearRegionItem):
    """The selection: its edges drag; a plain drag inside it goes to the view (a new selection), Ctrl+drag moves it
    whole. It never leaves the clip: the view sets its bounds to the clip, and a move stops at either end."""

    def hoverEvent(self, ev):
        self.setMouseHover(False)  # claim no drag on hover: whether a drag moves it depends on Ctrl when it starts

    def mouseDragEvent(self, ev):
        if ev.button() != Qt.MouseButton.LeftButton or (
                ev.isStart() and not ev.modifiers() & Qt.KeyboardModifier.ControlModifier):
            ev.ignore()
            return
        ev.accept()
        if ev.isStart():
            self._move_from = (self.getRegion(), ev.buttonDownPos().x())
        if getattr(self, "_move_from", None) is None:
            return
        (start, end), down = self._move_from
        low, high = self.lines[0].maxRange
        shift = ev.pos().x() - down
        if low is not None:
            shift = max(shift, low - start)
        if high is not None:
            shift = min(shift, high - end)
        self.setRegion((start + shift, end + shift))
        if ev.isFinish():
            self._move_from = None
            self.sigRegionChangeFinished.emit(self)


class WaveViewBox(pg.ViewBox):
    """A ViewBox where a left drag selects instead of panning, and a click seeks."""

    def __init__(self, owner):
        super().__init__(enableMenu=False)
        self._owner = owner

    def mouseDragEvent(self, ev, axis=None):
        pan = ev.button() == Qt.MouseButton.MiddleButton or (
            ev.button() == Qt.MouseButton.LeftButton and ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if ev.button() == Qt.MouseButton.LeftButton and not pan:
            ev.accept()
            start = self.mapSceneToView(ev.buttonDownScenePos()).x()
            now = self.mapSceneToView(ev.scenePos()).x()
            self._owner.set_selection(start, now)
        elif pan:
            super().mouseDragEvent(ev, axis=0)  # the base class pans on left/middle drags; time axis only
        else:
            ev.ignore()

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self._owner._clicked_at(self.mapSceneToView(ev.scenePos()).x())
        else:
            ev.ignore()

    def wheelEvent(self, ev, axis=None):
        if ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            ev.accept()
            self._owner.scroll(-0.1 if ev.delta() > 0 else 0.1)
        elif ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            ev.accept()
            zoom = self._owner.amplitude_zoom()
            self._owner.set_amplitude_zoom(zoom * 2 if ev.delta() > 0 else zoom / 2)
        else:
            super().wheelEvent(ev, axis=0)  # zoom time only


def key_actions(view) -> dict:
    """The waveform's keys mapped to what they do to `view` (a WaveformView); other keys go to its parent."""
    def span() -> float:
        low, high = view.view_range()
        return high - low

    return {
        Qt.Key.Key_Plus: lambda: view.zoom(2.0), Qt.Key.Key_Equal: lambda: view.zoom(2.0),
        Qt.Key.Key_Minus: lambda: view.zoom(0.5), Qt.Key.Key_0: view.fit,
        Qt.Key.Key_Left: lambda: view.scroll(-0.1), Qt.Key.Key_Right: lambda: view.scroll(0.1),
        Qt.Key.Key_Home: lambda: view.set_view(0.0, span()),
        Qt.Key.Key_End: lambda: view.set_view(view.duration - span(), view.duration),
        Qt.Key.Key_Up: lambda: view.set_amplitude_zoom(view.amplitude_zoom() * 2),
        Qt.Key.Key_Down: lambda: view.set_amplitude_zoom(view.amplitude_zoom() / 2),
        Qt.Key.Key_S: lambda: view.set_spectrogram_visible(not view.spectrogram_visible()),
        Qt.Key.Key_Escape: view.clear_selection,
    }
