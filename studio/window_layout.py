"""Keeping the window usable from 1024x640: docks that scroll instead of widening the window, and on first start
the side docks share one column as tabs (the library in front)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea


def shrinkable_docks(window: QMainWindow, keep: tuple[QDockWidget, ...] = ()) -> None:
    """Every side dock but `keep` holds its panel in a scroll area, so a wide panel (the pads) scrolls rather
    than setting the window's minimum width. Call once after all docks are attached."""
    sides = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)
    for dock in window.findChildren(QDockWidget):
        inner = dock.widget()
        # Only side docks: their width adds to the cards'; a bottom dock spans the window and keeps its height.
        if dock in keep or inner is None or isinstance(inner, QScrollArea) or window.dockWidgetArea(dock) not in sides:
            continue
        scroll = QScrollArea()
        scroll.setObjectName(f"{dock.objectName()}Scroll")
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)  # reparents the panel; it keeps its signals and state
        dock.setWidget(scroll)


def first_start_docks(window: QMainWindow, front: QDockWidget) -> None:
    """Docks in the same area become tabs of one group (`front` shown), so none is squeezed to nothing."""
    areas: dict[Qt.DockWidgetArea, list[QDockWidget]] = {}
    for dock in window.findChildren(QDockWidget):
        if not dock.isFloating():
            areas.setdefault(window.dockWidgetArea(dock), []).append(dock)
    for docks in areas.values():
        first = front if front in docks else docks[0]
        for dock in docks:
            if dock is not first and dock not in window.tabifiedDockWidgets(first):
                window.tabifyDockWidget(first, dock)
        first.raise_()


def compact_bottom_docks(window: QMainWindow) -> None:
    """Bottom docks start at their smallest height: the cards and the waveform get the room (the user can drag
    the dock taller; the state is saved)."""
    bottom = [d for d in window.findChildren(QDockWidget)
              if not d.isFloating() and window.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea]
    if bottom:
        window.resizeDocks(bottom, [d.minimumSizeHint().height() for d in bottom], Qt.Orientation.Vertical)
