"""The window's recorder: count-in, a drain timer, punch-in length, take numbers, and one-line status news.

The audio callback (core.devices.recording) only fills a ring buffer; the QTimer here drains it every
DRAIN_MS on the GUI thread, which streams the take to disk, feeds the level meter and notices a device that
went away. No widget is touched from the audio thread. Widgets listen to the signals:

    level(MeterReading)            after every drain
    state_changed(str)             "idle" | "counting" | "recording"
    count_in(int, int)             beat number, beats in the count-in (visual count-in; also with the click)
    elapsed(float)                 seconds in the take
    status(str)                    one line for the status bar (device chosen, fault, no input...)
    take_finished(RecordedTake, object)   the take, and the punch range (start_s, end_s) or None
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from core.audio.clip import Clip
from core.devices.meter import MeterReading
from core.devices.playback import PlaybackUnavailable, Player
from core.devices.recording import RecordedTake, Recorder

DRAIN_MS = 30


def click_track(beats: int, tempo: float, rate: int = 48_000) -> Clip:
    """`beats` clicks at `tempo` BPM, the first one accented (higher and louder), as one clip."""
    beat = int(round(60.0 / tempo * rate))
    samples = np.zeros(beat * beats, np.float32)
    length = int(0.03 * rate)
    t = np.arange(length) / rate
    envelope = np.exp(-t * 150.0)
    for index in range(beats):
        freq, amp = (1500.0, 0.6) if index == 0 else (1000.0, 0.4)
        samples[index * beat:index * beat + length] = amp * envelope * np.sin(2 * np.pi * freq * t)
    return Clip(samples, rate)


class RecordingController(QObject):
    level = Signal(object)
    state_changed = Signal(str)
    count_in = Signal(int, int)
    elapsed = Signal(float)
    status = Signal(str)
    take_finished = Signal(object, object)

    def __init__(self, settings, recorder_factory: Callable[..., Recorder] = Recorder,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.recorder_factory = recorder_factory
        self.recorder: Optional[Recorder] = None
        self.state = "idle"
        self.punch: Optional[tuple[float, float]] = None
        self.last_take: Optional[RecordedTake] = None
        self._beat = 0
        self._beats = 0
        self._click_player: Optional[Player] = None
        self._drain_timer = QTimer(self)
        self._drain_timer.setInterval(DRAIN_MS)
        self._drain_timer.timeout.connect(self._drain)
        self._beat_timer = QTimer(self)
        self._beat_timer.timeout.connect(self._next_beat)

    # ---- what the buttons call ------------------------------------------------------------------------
    @property
    def is_busy(self) -> bool:
        return self.state != "idle"

    @property
    def next_take_number(self) -> int:
        return self.settings.take_counter + 1

    def toggle(self, punch: Optional[tuple[float, float]] = None) -> None:
        if self.is_busy:
            self.stop()
        else:
            self.start(punch)

    def start(self, punch: Optional[tuple[float, float]] = None) -> bool:
        """Count in (if chosen), then record; `punch` = (start_s, end_s) stops the take at that length."""
        if self.is_busy:
            return False
        if punch is not None and not punch[1] > punch[0]:
            self.status.emit("Record into selection needs a selection: drag across the waveform first.")
            return False
        self.punch = punch
        beats = self.settings.count_in_beats
        mode = self.settings.count_in_mode
        if mode == "off" or beats <= 0:
            return self._begin()
        self._beats, self._beat = beats, 0
        self._set_state("counting")
        if mode == "click":
            self._play_click(beats)
        self._beat_timer.setInterval(max(50, int(round(60_000 / self.settings.count_in_tempo))))
        self._next_beat()
        self._beat_timer.start()
        return True

    def stop(self) -> Optional[RecordedTake]:
        """Stop a count-in (nothing recorded) or end the take and hand it over."""
        if self.state == "counting":
            self._beat_timer.stop()
            self._stop_click()
            self._set_state("idle")
            self.status.emit("Count-in cancelled; nothing was recorded.")
            return None
        if self.state == "recording":
            return self._finish()
        return None

    def reset_clip(self) -> None:
        if self.recorder is not None and self.recorder.meter is not None:
            self.recorder.meter.reset_clip()
            self.level.emit(self.recorder.meter.reading)

    def shutdown(self) -> None:
        """Window closing: a take in progress is finished and handed over, never dropped."""
        self.stop()
        self._stop_click()

    # ---- internals -------------------------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        self.state = state
        self.state_changed.emit(state)

    def _next_beat(self) -> None:
        self._beat += 1
        if self._beat > self._beats:
            self._beat_timer.stop()
            self._begin()
            return
        self.count_in.emit(self._beat, self._beats)

    def _begin(self) -> bool:
        settings = self.settings
        self.recorder = self.recorder_factory(device=settings.input_device, rate=settings.record_rate,
                                              channels=settings.record_channels or None)
        try:
            device = self.recorder.start()
        except PlaybackUnavailable as exc:
            self.recorder = None
            self._set_state("idle")
            self.status.emit(str(exc))
            return False
        self._set_state("recording")
        what = "into the selection" if self.punch else f"take {self.next_take_number}"
        self.status.emit(f"Recording {what} from {device.label} at {self.recorder.meter.rate} Hz, "
                         f"{self.recorder.meter.channels} ch.")
        self._drain_timer.start()
        return True

    def _drain(self) -> None:
        recorder = self.recorder
        if recorder is None:
            return
        reading: MeterReading = recorder.drain()
        self.level.emit(reading)
        self.elapsed.emit(recorder.seconds)
        if recorder.fault:
            self._finish()
        elif self.punch is not None and recorder.seconds >= self.punch[1] - self.punch[0]:
            self._finish()  # punch out at the selection's length

    def _finish(self) -> Optional[RecordedTake]:
        self._drain_timer.stop()
        recorder, self.recorder = self.recorder, None
        punch, self.punch = self.punch, None
        if recorder is None:
            self._set_state("idle")
            return None
        take = recorder.stop()
        if take.clip.frames == 0:
            take.discard_file()
            self._set_state("idle")
            self.status.emit(take.fault or "Nothing was recorded (the input delivered no audio).")
            return None
        self.settings.take_counter = self.settings.take_counter + 1
        self.last_take = take
        self._set_state("idle")  # after counting, so "Next: take N" is already the next one
        if take.fault:
            self.status.emit(take.fault)
        self.take_finished.emit(take, punch)
        return take

    def _play_click(self, beats: int) -> None:
        try:
            if self._click_player is None:
                # PortAudio's short default buffer (not the player's 0.2 s): the click must sound on the beat.
                self._click_player = Player(device=self.settings.audio_device, latency="high")
            self._click_player.device = self.settings.audio_device
            self._click_player.play(click_track(beats, self.settings.count_in_tempo))
        except PlaybackUnavailable as exc:
            self.status.emit(f"Count-in click not heard ({exc}); counting in visually.")

    def _stop_click(self) -> None:
        if self._click_player is not None:
            self._click_player.stop()
