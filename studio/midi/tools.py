"""Beside the DAW in the window: pads, MIDI learn, session tempo (MIDI clock or tap), DAW transport, bars in
Music mode, and compact mode. `attach(window)` does the wiring; the window keeps one line.

- a "Pads" dock: MIDI status, tempo (field, Tap, meter, clock source), the pad grid, a Compact button;
- a MIDI menu: MIDI settings… (input, learn; also under Settings), Compact mode (Ctrl+Shift+M), Tap tempo, Stop pads;
- learned actions drive the window (play/stop, record, generate, next/previous take, keep, cancel);
- MIDI Start/Stop/Continue/Song Position drive the editor's transport (or the plain player without an editor);
- the session tempo goes to Music mode's bars row and to the editor's Extend loop (`window.session_bpm()`).
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from studio.midi.bars_row import BarsRow
from studio.midi.controller import MidiController
from studio.midi.pad_grid import PadGrid
from studio.midi.settings_dialog import MidiDialog
from studio.midi.tempo_widget import TempoWidget
from studio.shell.labels import ElidedLabel

__all__ = ["MidiController", "MidiTools", "PadGrid", "attach"]

COMPACT_SHORTCUT = "Ctrl+Shift+M"


class MidiTools(QObject):
    def __init__(self, window, controller: Optional[MidiController] = None) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller or MidiController(window.settings, parent=self)
        self.dialog: Optional[MidiDialog] = None
        self.compact = None
        c = self.controller

        self.status_label = ElidedLabel(c.status)  # one line: a long status never widens the dock
        self.status_label.setObjectName("midiStatus")
        self.tempo = TempoWidget(c)
        self.pads = PadGrid(c, window.selected_entry, window.show_error, library=window.library)
        if c.kit_problems:
            window.show_error("Some pads could not be reloaded: " + "; ".join(c.kit_problems))
        self.compact_button = QPushButton("Compact")
        self.compact_button.setToolTip(f"A small always-on-top window ({COMPACT_SHORTCUT})")
        self.compact_button.clicked.connect(lambda: self.set_compact(True))
        self._fit_narrow()
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.addWidget(self.tempo)
        row = QHBoxLayout()
        row.addWidget(self.status_label, 1)
        row.addWidget(self.compact_button)
        layout.addLayout(row)
        layout.addWidget(self.pads, 1)
        self.dock = QDockWidget("Pads", window)
        self.dock.setObjectName("padsDock")
        self.dock.setWidget(box)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)

        self.bars_row = BarsRow(c)
        self._add_bars_row()
        window.session_bpm = lambda: c.bpm  # the editor's Extend loop reads the session tempo here
        self._build_menus()
        c.status_changed.connect(self._status)
        c.action.connect(self.run_action)
        c.transport.connect(self.follow_transport)
        c.tempo_changed.connect(self._tempo_to_editor)
        self._tempo_to_editor(c.bpm, c.tempo_source)
        window.installEventFilter(self)
        player, midi = c.player, c.midi  # not `c`: its Qt side is gone by the time `destroyed` fires
        window.destroyed.connect(lambda *_: (player.close(), midi.close()))

    # ---- window pieces -----------------------------------------------------------------------------------
    def _fit_narrow(self) -> None:
        """The dock's widest rows give way, so the four pad columns show whole in a dock about 300 px wide: buttons
        as wide as their words, the tempo's source and DAW labels take only what is left (full text as tooltip)."""
        for button in (self.tempo.tap_button, self.compact_button):
            button.setMinimumWidth(button.fontMetrics().horizontalAdvance(button.text()) + 20)
            button.setSizePolicy(QSizePolicy.Policy.Minimum, button.sizePolicy().verticalPolicy())
        for label in (self.tempo.source_label, self.tempo.transport_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, label.sizePolicy().verticalPolicy())

    def _add_bars_row(self) -> None:
        panel = self.window.generation_panel
        row = panel._row_of(panel.seconds_spin) + 1 if hasattr(panel, "_row_of") else -1
        panel.form.insertRow(row, "", self.bars_row)
        panel.extra_inputs.setdefault("music", []).append(self.bars_row.job_inputs)
        panel.mode_tabs.currentChanged.connect(lambda *_: self._show_bars_row())
        self.bars_row.enabled_box.toggled.connect(lambda *_: self._sync_duration())
        self.bars_row.length_changed.connect(self._sync_duration)
        self._typed_seconds: Optional[float] = None  # Duration as the user left it before Bars took over
        self._show_bars_row()

    def _show_bars_row(self) -> None:
        panel = self.window.generation_panel
        visible = panel.mode.name == "music"
        if hasattr(panel, "_set_row_visible"):
            panel._set_row_visible(self.bars_row, visible)
        else:
            self.bars_row.setVisible(visible)
        self._sync_duration()

    def _sync_duration(self) -> None:
        """While Bars is ticked (Music mode), Duration is off and shows the length the bars make; unticked, it
        is the user's again, with the value they had typed."""
        spin = self.window.generation_panel.seconds_spin
        locked = self.window.generation_panel.mode.name == "music" and self.bars_row.enabled_box.isChecked()
        if locked:
            if self._typed_seconds is None:
                self._typed_seconds, self._seconds_tip = spin.value(), spin.toolTip()
            spin.blockSignals(True)
            spin.setValue(min(self.bars_row.seconds(), spin.maximum()))
            spin.blockSignals(False)
            spin.setToolTip("Set by Bars: the length of the bars at the session tempo (untick Bars to type one)")
        elif self._typed_seconds is not None:
            if self.window.generation_panel.mode.name == "music":
                spin.setValue(self._typed_seconds)
            self._typed_seconds = None
            spin.setToolTip(self._seconds_tip)
        spin.setEnabled(not locked)

    def _build_menus(self) -> None:
        window = self.window
        from studio.recording.tools import _top_menu

        menu = _top_menu(window, "&MIDI", before="&Models")
        menu.addAction("MIDI &settings…", self.open_dialog)
        self.compact_action = menu.addAction("&Compact mode", self.toggle_compact)
        self.compact_action.setShortcut(QKeySequence(COMPACT_SHORTCUT))
        self.compact_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.compact_action.setCheckable(True)
        menu.addAction("&Tap tempo", self.controller.tap)
        menu.addAction("Stop all &pads", self.controller.stop_pads)
        _top_menu(window, "&Settings").addAction("&MIDI input and learn…", self.open_dialog)

    def open_dialog(self) -> MidiDialog:
        if self.dialog is None:
            self.dialog = MidiDialog(self.controller, self.window)
        self.dialog.fill_inputs()
        self.dialog.show_bindings()
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def _status(self, text: str) -> None:
        self.status_label.setText(text)
        self.window.show_message(text)

    # ---- compact mode ----------------------------------------------------------------------------------
    def toggle_compact(self) -> None:
        self.set_compact(self.compact is None or not self.compact.isVisible())

    def set_compact(self, on: bool) -> None:
        if on:
            if self.compact is None:
                from studio.compact.window import CompactWindow

                self.compact = CompactWindow(self.window, self)
            self.compact.show_restored()
            self.window.showMinimized()
        elif self.compact is not None:
            self.compact.remember()
            self.compact.hide()
            self.window.showNormal()
            self.window.raise_()
        self.compact_action.setChecked(on)

    def compact_closed(self) -> None:
        self.compact_action.setChecked(False)
        if self.window.isMinimized():
            self.window.showNormal()

    # ---- actions and transport ---------------------------------------------------------------------------
    def run_action(self, name: str, value) -> None:
        w = self.window
        cards = w.candidates
        if name == "play_stop":
            w.toggle_playback()
        elif name == "record" and getattr(w, "recording", None) is not None:
            w.recording.toggle(into_selection=False)
        elif name == "generate":
            w.generation_panel.request_generate()
        elif name in ("next_take", "previous_take") and cards.cards:
            cards.select(max(0, cards.current_index) + (1 if name == "next_take" else -1))
            if cards.current() is not None:
                w.auditioner.play(cards.current())
        elif name == "keep" and cards.current() is not None:
            w.keep(cards.current())
        elif name == "cancel":
            w.jobs.cancel_all()
        elif name == "output_gain":
            w.show_message(f"Pad output gain {value / 127:.0%}")
        elif name == "pad_bank":
            w.show_message(f"Pad bank {chr(ord('A') + self.controller.pads.bank)}")

    def follow_transport(self, what: str, seconds: float) -> None:
        """The DAW's Start/Continue play the shown take (from the start / from the DAW's position), Stop stops,
        Song Position moves the cursor: through the editor's transport when there is one."""
        w = self.window
        editor = getattr(w, "editor", None)
        playback = getattr(editor, "playback", None)
        entry = w.selected_entry()
        position = seconds if entry is None else min(seconds, entry.clip.seconds)
        if what == "stop":
            (playback.stop if playback is not None else w.auditioner.stop)()
        elif what == "position" and editor is not None and entry is not None:
            editor.cursor_to(position)
        elif what in ("start", "continue") and entry is not None:
            start = 0.0 if what == "start" else position
            if playback is not None:
                editor.cursor_to(start)
                if playback.play(use_selection=False):
                    return
            w.auditioner.play(entry, start=start)

    def _tempo_to_editor(self, bpm: float, _source: str) -> None:
        """One session tempo: the editor's bar readout and the recording's count-in follow it (a count-in can
        still be typed apart until the session tempo changes again)."""
        transport = getattr(getattr(self.window, "editor", None), "transport", None)
        if transport is not None and hasattr(transport, "set_tempo"):
            transport.set_tempo(bpm, self.controller.beats_per_bar)
        recording = getattr(self.window, "recording", None)
        if recording is not None and bpm:
            recording.panel.tempo_spin.setValue(bpm)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Close:
            # The window may still refuse to close (unsaved edits > Cancel): decide once its handler has run.
            QTimer.singleShot(0, self, self._after_close)
        return False

    def _after_close(self) -> None:
        if self.window.isVisible():
            return
        if self.compact is not None:
            self.compact.remember()
            self.compact.close()
        self.controller.close()


def attach(window) -> MidiTools:
    return MidiTools(window)
