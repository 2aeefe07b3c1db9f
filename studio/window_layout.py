"""Keeping the window usable from 1024x640: docks that scroll instead of widening the window, and on first start
the side docks share one column as tabs (the library in front)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea


def shrinkable_docks(window: QMainWindow, keep: tuple[QDockWidget, ...] = ()) -> None:
    """Every dock but `keep` holds its panel in a scroll area, so a wide panel (pads, script) scrolls rather
    than setting the window's minimum size. Call once after all docks are attached."""
    for dock in window.findChildren(QDockWidget):
        inner = dock.widget()
        if dock in keep or inner is None or isinstance(inner, QScrollArea):
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
