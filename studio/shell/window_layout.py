"""Keeping the window usable from 1024x640: docks that scroll instead of widening the window, and on first start
the side docks share one column as tabs (the library in front)."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from studio.models.choices import first_run_summary, first_run_text
from studio.shell.labels import WrappingLabel

JOB_LIST_MAX_HEIGHT = 150  # about five job rows; more scroll
PANEL_MIN_WIDTH = 320  # the settings panel; the candidates column gets the rest (one card is ~250 px)
FIRST_SIZE = QSize(1400, 860)  # a first start's size where the screen has room; a smaller screen gets all of it
FRAME_ROOM = QSize(8, 40)  # what a window manager adds around the window: borders and a title bar


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


class BottomDockGuest(QObject):
    """A dock that comes and goes in the bottom area (the Script dock with Speech mode). It comes at the height
    it had last (the first time: `height`), and when it goes, the docks left there get back the height they had
    before it came: the cards and the waveform are not squeezed by a dock that is no longer there."""

    def __init__(self, window: QMainWindow, dock: QDockWidget, height: int) -> None:
        super().__init__(dock)
        self.window, self.dock, self.height = window, dock, height
        self._before: Optional[int] = None  # the bottom area's height before the dock came
        self._out = False  # shown, and not closed since
        self._size_pending = False
        dock.visibilityChanged.connect(self._on_visibility)

    def _hosts(self) -> list[QDockWidget]:
        return [d for d in self.window.findChildren(QDockWidget) if d is not self.dock and not d.isHidden()
                and not d.isFloating() and self.window.dockWidgetArea(d) == Qt.DockWidgetArea.BottomDockWidgetArea]

    def _area_height(self, dock: QDockWidget) -> int:
        """The height resizeDocks speaks of: the dock with its tab bar, from its top to the status bar."""
        bottom = self.window.statusBar().geometry().top() if self.window.statusBar().isVisible() \
            else self.window.height()
        return max(bottom - dock.geometry().top(), dock.minimumSizeHint().height())

    def show(self) -> None:
        if self.dock.isHidden():
            hosts = [d for d in self._hosts() if d.isVisible()]
            self._before = max((self._area_height(d) for d in hosts), default=None)
            self._size_pending = True  # sized once it is in the layout (resizeDocks ignores it before)
        self._out = True
        self.dock.show()
        self.dock.raise_()

    def _on_visibility(self, visible: bool) -> None:
        if visible and self._size_pending:
            self._size_pending = False
            QTimer.singleShot(0, self, lambda: self.window.resizeDocks([self.dock], [self.height],
                                                                      Qt.Orientation.Vertical))
        if visible or not self._out or not self.dock.isHidden():  # a tab behind another is not gone
            return
        self._out = False
        self.height = self._area_height(self.dock)  # the user's height, for the next time
        QTimer.singleShot(0, self, self._give_back)

    def _give_back(self) -> None:
        hosts = self._hosts()
        if not hosts or not self.dock.isHidden():
            return
        least = max(d.minimumSizeHint().height() for d in hosts)
        self.window.resizeDocks(hosts, [max(self._before or least, least)] * len(hosts), Qt.Orientation.Vertical)


def fit_settings_column(splitter: QSplitter, panel: QWidget) -> None:
    """Widen the settings column to show the current mode's fields without a horizontal scroll bar, as far as
    the cards' column can give up room (it keeps its minimum width)."""
    sizes = splitter.sizes()
    if len(sizes) < 2:
        return
    wanted = panel.minimumSizeHint().width() + panel.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent) + 4
    room = sizes[1] - splitter.widget(1).minimumSizeHint().width()
    grow = min(wanted - sizes[0], room)
    if grow > 0:
        splitter.setSizes([sizes[0] + grow, sizes[1] - grow])


def build_layout(window) -> None:
    """The settings column, the cards over the waveform, and the library dock (sets the window's banners)."""
    panel_scroll = QScrollArea()
    panel_scroll.setWidgetResizable(True)
    panel_scroll.setWidget(window.generation_panel)
    # The window works from 1024x640: the settings scroll rather than squeeze the cards.
    panel_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    panel_scroll.setMinimumWidth(PANEL_MIN_WIDTH)

    window.first_run_banner = QWidget()
    window.first_run_banner.setObjectName("firstRunBanner")
    window.first_run_text = WrappingLabel(first_run_summary())
    window.first_run_text.setToolTip(first_run_text())
    window.first_run_button = QPushButton("Open Models…")
    banner = QHBoxLayout(window.first_run_banner)
    banner.addWidget(window.first_run_text, 1)
    banner.addWidget(window.first_run_button, 0, Qt.AlignmentFlag.AlignTop)

    window.error_banner = WrappingLabel()  # a long path wraps: never widens the window
    window.error_banner.setObjectName("errorBanner")
    window.error_banner.setStyleSheet("color: #c0392b;")
    window.error_banner.setVisible(False)
    window.message_area = WrappingLabel()  # status messages too long for the status bar, wrapped
    window.message_area.setObjectName("messageArea")
    window.message_area.setVisible(False)
    window._message_timer = QTimer(window, singleShot=True, interval=12_000)
    window._message_timer.timeout.connect(lambda: window.message_area.setVisible(False))

    top = QWidget()
    top_layout = QVBoxLayout(top)
    top_layout.setContentsMargins(0, 0, 0, 0)
    top_layout.addWidget(window.first_run_banner)
    top_layout.addWidget(window.error_banner)
    top_layout.addWidget(window.message_area)
    window.job_list_scroll = FittingScroll(window.job_list, JOB_LIST_MAX_HEIGHT)
    window.job_list_scroll.setObjectName("jobListScroll")
    top_layout.addWidget(window.job_list_scroll)
    top_layout.addWidget(window.candidates, 1)
    centre = QSplitter(Qt.Orientation.Vertical)
    centre.setObjectName("centreSplitter")
    centre.addWidget(top)
    if window.waveform is not None:
        window.waveform_box = QWidget()
        window.waveform_box.setObjectName("waveformBox")
        window.waveform_bar = QHBoxLayout()
        window.waveform_bar.addStretch(1)
        box_layout = QVBoxLayout(window.waveform_box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.addLayout(window.waveform_bar)
        box_layout.addWidget(window.waveform, 1)
        centre.addWidget(window.waveform_box)
    main = QSplitter(Qt.Orientation.Horizontal)
    main.setObjectName("mainSplitter")
    main.addWidget(_side_column(window, panel_scroll))
    main.addWidget(centre)
    main.setStretchFactor(1, 1)
    main.setChildrenCollapsible(False)
    centre.setChildrenCollapsible(False)
    main.setSizes([PANEL_MIN_WIDTH + 60, 800])
    window.generation_panel.mode_tabs.currentChanged.connect(  # after the mode's rows are shown
        lambda _i: QTimer.singleShot(0, window, lambda: fit_settings_column(main, window.generation_panel)))
    centre.setSizes([480, 260])  # the cards get most of the height; the waveform below
    window.setCentralWidget(main)

    window.library_dock = QDockWidget("Library", window)
    window.library_dock.setObjectName("libraryDock")
    window.library_dock.setWidget(window.library_panel)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.library_dock)
    resize_to_screen(window)


def resize_to_screen(window) -> None:
    """A first start's size: FIRST_SIZE, or the whole screen less the frame where the screen is smaller (on a
    1024x640 screen a 1400x860 window hid its right edge, the drag-out button with it, and its bottom rows)."""
    screen = window.screen()
    room = screen.availableGeometry().size() - FRAME_ROOM if screen is not None else FIRST_SIZE
    window.resize(FIRST_SIZE.boundedTo(room))


class FittingScroll(QScrollArea):
    """A scroll area as tall as its content up to `most` px, then scrolling: the job rows never push the window
    taller than the screen (an open history of 12 jobs made it 878 px tall) nor the cards out of view, and no
    jobs take no room."""

    def __init__(self, content: QWidget, most: int) -> None:
        super().__init__()
        self.most = most
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(content)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        content.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # rows came or went: ask for the new height
        return super().eventFilter(watched, event)

    def sizeHint(self) -> QSize:
        content = self.widget().sizeHint() if self.widget() is not None else QSize(0, 0)
        return QSize(content.width(), min(max(content.height(), 0), self.most))

    def minimumSizeHint(self) -> QSize:
        return QSize(0, min(self.sizeHint().height(), 40))


def _side_column(window, panel_scroll: QScrollArea) -> QWidget:
    """The mode tabs above the scrolling settings and Generate below them: both always in view, however many
    fields a mode has (Speech's run past 640 px and hid Generate under the fold)."""
    panel = window.generation_panel
    tabs, generate = panel.mode_tabs, panel.generate_bar
    panel.layout().removeWidget(tabs)
    panel.layout().removeWidget(generate)
    tabs.setUsesScrollButtons(True)
    side = QWidget()
    side.setObjectName("settingsColumn")
    column = QVBoxLayout(side)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    column.addWidget(tabs)
    column.addWidget(panel_scroll, 1)
    button_row = QHBoxLayout()
    button_row.setContentsMargins(6, 4, 6, 4)
    button_row.addWidget(generate)
    column.addLayout(button_row)
    return side
