"""Playing what the editor shows, from where the user is: the selection if there is one, else from the cursor.

EditorPlayback ties the transport bar, the waveform view and the window's Auditioner together. It never moves the
view on its own: the waveform's follow timer only pages forward when the playhead leaves the view, so a zoomed
view stays where the user put it.
"""

from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import QObject, QTimer

from studio.editor.transport import TransportBar
from studio.generate.audition import Auditioner
from studio.shell.clip_entry import ClipEntry
from studio.waveform.waveform_view import WaveformView

READOUT_INTERVAL_MS = 50
END_TOLERANCE = 1e-3  # a cursor this close to the end plays from the start, as in Audacity


def play_range(cursor: float, selection: Optional[tuple[float, float]], duration: float,
               use_selection: bool = True) -> tuple[float, Optional[float]]:
    """(start, end) to play: the selection, or from the cursor to the end (from 0 when the cursor sits at the end)."""
    if use_selection and selection is not None and selection[1] > selection[0]:
        return selection
    start = cursor if cursor < duration - END_TOLERANCE else 0.0
    return start, None


class EditorPlayback(QObject):
    def __init__(self, transport: TransportBar, view: WaveformView, auditioner: Auditioner,
                 entry: Callable[[], Optional[ClipEntry]], parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.transport, self.view, self.auditioner, self._entry = transport, view, auditioner, entry
        transport.play_requested.connect(lambda: self.play())
        transport.stop_requested.connect(self.stop)
        transport.play_from_cursor_requested.connect(lambda: self.play(use_selection=False))
        transport.play_selection_requested.connect(lambda: self.play(selection_only=True))
        view.selection_changed.connect(transport.show_selection)
        view.cursor_changed.connect(self._on_cursor)
        auditioner.started.connect(lambda _entry: transport.set_playing(True))
        auditioner.stopped.connect(self._on_stopped)
        self._readout = QTimer(self)
        self._readout.setInterval(READOUT_INTERVAL_MS)
        self._readout.timeout.connect(self._tick)

    @property
    def is_playing(self) -> bool:
        return self.auditioner.is_playing

    def toggle(self) -> None:
        """Space: stop if playing, else play the selection or from the cursor."""
        if self.is_playing:
            self.stop()
        else:
            self.play()

    def play_looped(self) -> None:
        """Shift+Space: loop the selection (or from the cursor to the end) until stopped."""
        self.transport.set_loop(True)
        self.play()

    def play(self, use_selection: bool = True, selection_only: bool = False) -> bool:
        entry = self._entry()
        if entry is None or self.view.clip() is None:
            return False
        selection = self.view.selection()
        if selection_only and selection is None:
            return False
        start, end = play_range(self.view.cursor(), selection, self.view.duration, use_selection)
        loop = self.transport.loop and use_selection
        if not self.auditioner.play(entry, start=start, end=end, loop=loop):
            return False
        self.view.set_playhead(start)
        self.view.follow_playback()
        self._readout.start()
        return True

    def stop(self) -> None:
        self.auditioner.stop()

    def _on_stopped(self) -> None:
        self.transport.set_playing(False)
        self._readout.stop()
        self.transport.show_position(self.view.cursor())

    def _on_cursor(self, seconds: float) -> None:
        if not self.is_playing:
            self.transport.show_position(seconds)

    def _tick(self) -> None:
        if self.is_playing:
            self.transport.show_position(self.auditioner.player.position)
