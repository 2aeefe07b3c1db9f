"""The transport bar: play / stop / record, play from the cursor, play the selection, loop, and the readouts.

The bar only shows state and asks for things through signals; `studio.editor.playback.EditorPlayback` does the
playing and the recording helper connects `record_requested` (and drives `set_recording`) for the Record button.

    bar = TransportBar()
    bar.play_requested.connect(...)          # the Play button: selection if any, else from the cursor
    bar.record_requested.connect(...)        # Record button pressed (hook for core/devices recording)
    bar.set_tempo(120.0, beats_per_bar=4)    # readouts add bars:beats; None hides them
    bar.show_position(1.25); bar.show_selection((0.5, 1.0))
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QSpacerItem, QToolButton, QVBoxLayout, QWidget

from studio.editor.readout import ReadoutLabel

# The widest readouts the bar keeps room for on the buttons' row; narrower bars show them on a row of their own
# (a fixed reference, so a new selection never moves them between rows).
POSITION_ROOM = "00.000 s"
SELECTION_ROOM = "00.000 s – 00.000 s (00.000 s)"
SELECTION_LEAST = "0:00.000–0:00.000 (00.000 s)"  # the shortest wording of a selection in a clip under 10 min
READOUT_GAP = 12


def seconds_text(seconds: float) -> str:
    """1.250 s, or m:ss.mmm past a minute (readouts need millisecond precision, not tick spacing)."""
    if seconds >= 60:
        minutes, rest = divmod(seconds, 60.0)
        return f"{int(minutes)}:{rest:06.3f}"
    return f"{seconds:.3f} s"


def bars_beats(seconds: float, bpm: float, beats_per_bar: int = 4) -> str:
    """A position as bar.beat.fraction counted from 1 (Audacity and DAWs count bars and beats from 1)."""
    beats = seconds * bpm / 60.0
    bar, beat = divmod(beats, beats_per_bar)
    return f"{int(bar) + 1}.{int(beat) + 1}.{int((beat % 1) * 100):02d}"


def length_in_bars(seconds: float, bpm: float, beats_per_bar: int = 4) -> str:
    """A length as bars:beats (no +1: a length of one bar is 1:0)."""
    beats = seconds * bpm / 60.0
    bars, rest = divmod(beats, beats_per_bar)
    return f"{int(bars)}:{rest:.2f}".rstrip("0").rstrip(".")


def _compact_range(start: float, end: float) -> str:
    """0.500–1.500 s (1.000 s): one unit for both ends where both are under a minute."""
    if end < 60:
        return f"{start:.3f}–{end:.3f} s ({seconds_text(end - start)})"
    return f"{seconds_text(start)}–{seconds_text(end)} ({seconds_text(end - start)})"


class TransportBar(QWidget):
    play_requested = Signal()             # Play: the selection if there is one, else from the cursor
    stop_requested = Signal()
    play_from_cursor_requested = Signal()
    play_selection_requested = Signal()
    loop_toggled = Signal(bool)
    record_requested = Signal()           # the Record button (recording lives in core.devices / its own panel)

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("transportBar")
        self.tempo: Optional[float] = None   # beats per minute, when the clip's tempo is known
        self.beats_per_bar = 4
        self._position = 0.0
        self._selection: Optional[tuple[float, float]] = None

        self.play_button = self._button("▶", "Play (Space): the selection, or from the cursor", "playButton")
        self.stop_button = self._button("■", "Stop (Space while playing)", "stopButton")
        self.record_button = self._button("●", "Record", "recordButton")
        self.record_button.setCheckable(True)
        self.record_button.setStyleSheet("QToolButton { color: #d04040; }")
        self.cursor_button = self._button("▶|", "Play from the cursor, ignoring the selection", "playFromCursorButton")
        self.selection_button = self._button("[▶]", "Play the selection", "playSelectionButton")
        self.loop_button = self._button("⟲", "Loop: play the selection round and round (Shift+Space)", "loopButton")
        self.loop_button.setCheckable(True)

        self.position_label = ReadoutLabel("positionReadout")
        self.selection_label = ReadoutLabel("selectionReadout")
        for label in (self.position_label, self.selection_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readouts = QWidget()
        self.readouts.setObjectName("transportReadouts")
        readouts = QHBoxLayout(self.readouts)
        readouts.setContentsMargins(0, 0, 0, 0)
        readouts.setSpacing(0)
        readouts.addWidget(self.position_label)
        readouts.addSpacing(READOUT_GAP)
        readouts.addWidget(self.selection_label, 1)

        self._rows = QVBoxLayout(self)
        self._rows.setContentsMargins(2, 0, 2, 0)
        self._rows.setSpacing(0)
        self._top = QHBoxLayout()
        self._buttons = (self.play_button, self.stop_button, self.record_button, self.cursor_button,
                         self.selection_button, self.loop_button)
        for button in self._buttons:
            self._top.addWidget(button)
        self._top.addSpacing(8)
        self._push_left = QSpacerItem(0, 0, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self._rows.addLayout(self._top)
        self._one_row: Optional[bool] = None
        self._arrange()

        self.play_button.clicked.connect(self.play_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.cursor_button.clicked.connect(self.play_from_cursor_requested)
        self.selection_button.clicked.connect(self.play_selection_requested)
        self.loop_button.toggled.connect(self.loop_toggled)
        self.record_button.clicked.connect(self._record_clicked)
        self.show_position(0.0)
        self.show_selection(None)
        self.set_playing(False)

    # ---- layout: the readouts beside the buttons where there is room, else on a row below them ----------
    def _buttons_width(self) -> int:
        spacing = max(self._top.spacing(), 0)
        return sum(b.sizeHint().width() + spacing for b in self._buttons) + 8

    def _readouts_room(self) -> int:
        return (self.position_label.width_of(POSITION_ROOM) + READOUT_GAP
                + self.selection_label.width_of(SELECTION_ROOM))

    def minimumSizeHint(self) -> QSize:
        """The buttons, or the readouts' shortest wordings on their own row, whichever is wider: fixed
        references, so no selection or tempo ever widens the window."""
        margins = self._rows.contentsMargins()
        least = (self.position_label.width_of(POSITION_ROOM) + READOUT_GAP
                 + self.selection_label.width_of(SELECTION_LEAST))
        return QSize(max(self._buttons_width(), least) + margins.left() + margins.right(),
                     super().minimumSizeHint().height())

    def _arrange(self) -> None:
        margins = self._rows.contentsMargins()
        one_row = self.width() - margins.left() - margins.right() >= self._buttons_width() + self._readouts_room()
        if one_row == self._one_row:
            return
        self._one_row = one_row
        self._top.removeWidget(self.readouts)
        self._rows.removeWidget(self.readouts)
        self._top.removeItem(self._push_left)
        if one_row:
            self._top.addWidget(self.readouts, 1)
        else:
            self._top.addItem(self._push_left)  # the buttons stay left on their row
            self._rows.addWidget(self.readouts)
        self.updateGeometry()

    @property
    def readouts_on_own_row(self) -> bool:
        return not self._one_row

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange()

    def _button(self, text: str, tip: str, name: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setObjectName(name)
        button.setAutoRaise(True)
        return button

    def _record_clicked(self) -> None:
        # The button shows recording state only when a recorder says so (set_recording); a click just asks.
        self.record_button.setChecked(not self.record_button.isChecked())
        self.record_requested.emit()

    # ---- state shown ----------------------------------------------------------------------------------
    @property
    def loop(self) -> bool:
        return self.loop_button.isChecked()

    def set_loop(self, on: bool) -> None:
        self.loop_button.setChecked(on)

    def set_playing(self, playing: bool) -> None:
        self.play_button.setEnabled(not playing or self.loop)
        self.stop_button.setEnabled(playing)

    def set_recording(self, recording: bool) -> None:
        """For the recorder: the Record button lit while a take is being captured."""
        self.record_button.setChecked(recording)

    def set_tempo(self, bpm: Optional[float], beats_per_bar: int = 4) -> None:
        """A known tempo adds bars:beats to the readouts (None: seconds only)."""
        self.tempo = float(bpm) if bpm else None
        self.beats_per_bar = int(beats_per_bar)
        self.show_position(self._position)
        self.show_selection(self._selection)

    def show_position(self, seconds: float) -> None:
        self._position = float(seconds)
        text = seconds_text(seconds)
        forms = [text]
        if self.tempo:
            forms.insert(0, f"{text} · {bars_beats(seconds, self.tempo, self.beats_per_bar)}")
        self.position_label.set_forms(forms, f"Position (cursor, or the playhead while playing): {forms[0]}")

    def show_selection(self, selection: Optional[tuple[float, float]]) -> None:
        self._selection = selection
        self.selection_button.setEnabled(selection is not None)
        if selection is None:
            self.selection_label.set_forms(["No selection"], "No selection: drag across the waveform to select")
            return
        start, end = selection
        # Fullest first; narrower rows drop the bars, then the words, never start, end or length.
        first, last, length = seconds_text(start), seconds_text(end), seconds_text(end - start)
        text = f"{first} – {last} ({length})"
        forms = [f"Selection {first} – {last}, length {length}", text, _compact_range(start, end)]
        tip = f"Selection: start {first}, end {last}, length {length}"
        if self.tempo:
            bars = (f"bars {bars_beats(start, self.tempo, self.beats_per_bar)} – "
                    f"{bars_beats(end, self.tempo, self.beats_per_bar)} "
                    f"({length_in_bars(end - start, self.tempo, self.beats_per_bar)})")
            forms.insert(0, f"{text} · {bars}")
            tip += f"; {bars}"
        self.selection_label.set_forms(forms, tip)
