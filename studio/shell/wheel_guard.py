"""Spin boxes, sliders and combo boxes take the mouse wheel only when they have the focus (clicked or tabbed into).

Scrolling a panel with the wheel slides its fields under the pointer; without this guard the field under the
pointer took the rest of the wheel turn (Guidance 5.00 became 3.00, Candidates 2 became 1). An unfocused field
passes the wheel to its parent, so the panel keeps scrolling. `install(app)` once per application.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QSlider, QWidget

GUARDED = (QAbstractSpinBox, QComboBox, QSlider)  # not scroll bars: they are what scrolls


def _guarded(obj) -> bool:
    return isinstance(obj, GUARDED) and not isinstance(obj.parent(), GUARDED)  # a spin box's own slider etc.


class WheelGuard(QObject):
    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Polish and _guarded(obj):
            if obj.focusPolicy() & Qt.FocusPolicy.WheelFocus == Qt.FocusPolicy.WheelFocus:
                obj.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the wheel alone never focuses a field
        elif kind == QEvent.Type.Wheel and isinstance(obj, QWidget):
            field = obj if _guarded(obj) else obj.parentWidget() if _guarded(obj.parentWidget()) else None
            if field is not None and not field.hasFocus():
                area = field.parentWidget()
                while area is not None and not isinstance(area, QAbstractScrollArea):
                    area = area.parentWidget()
                if area is not None:
                    QApplication.sendEvent(area.viewport(), event)  # the panel scrolls on
                return True
        return False


_installed: list = []


def install(app: QApplication) -> None:
    """Guard every field of the application (once; later calls do nothing)."""
    if not any(owner is app for owner, _guard in _installed):
        guard = WheelGuard(app)
        app.installEventFilter(guard)
        _installed.append((app, guard))
