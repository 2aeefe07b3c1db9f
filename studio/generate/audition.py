"""Auditioning: play/stop a ClipEntry through core.devices.playback.Player and report back as Qt signals.

A missing or failing audio device becomes one message (the `message` signal); nothing else in the
window depends on audio working.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QObject, Signal

from core.devices.playback import PlaybackUnavailable, Player
from studio.shell.clip_entry import ClipEntry


class Auditioner(QObject):
    started = Signal(object)  # ClipEntry
    stopped = Signal()
    message = Signal(str)
    _ended_on_audio_thread = Signal()

    def __init__(self, player: Optional[Player] = None, parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.player = player if player is not None else Player()
        # PortAudio calls this on its own thread; the signal hops to the GUI thread.
        self.player.on_finished = self._ended_on_audio_thread.emit
        self._ended_on_audio_thread.connect(self._on_ended)
        self.current: Optional[ClipEntry] = None

    @property
    def is_playing(self) -> bool:
        return self.player.is_playing

    def toggle(self, entry: ClipEntry) -> None:
        """Space bar: stop if this entry is playing, otherwise play it."""
        if self.is_playing and self.current is entry:
            self.stop()
        else:
            self.play(entry)

    def play(self, entry: ClipEntry, start: float = 0.0, end: Optional[float] = None, loop: bool = False) -> bool:
        """Play `entry` from `start` to `end` seconds (None: its end), looped until stop() with `loop`."""
        try:
            self.player.play(entry.clip, start=start, end=end, loop=loop)
        except PlaybackUnavailable as exc:
            self.current = None
            self.message.emit(str(exc))
            return False
        self.current = entry
        self.started.emit(entry)
        return True

    def stop(self) -> None:
        was_playing = self.current is not None
        self.player.stop()
        self.current = None
        if was_playing:
            self.stopped.emit()

    def set_device(self, device: Optional[str]) -> bool:
        try:
            chosen = self.player.set_device(device)
        except PlaybackUnavailable as exc:
            self.message.emit(str(exc))
            return False
        self.message.emit(f"Audio output: {chosen.label}")
        return True

    def _on_ended(self) -> None:
        self.current = None
        self.stopped.emit()
