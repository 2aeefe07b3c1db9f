"""Recording in the window: a Recording dock (meter, count-in, takes), Settings > Audio input / Recording format,
a Record menu, finished takes landing in the library and the waveform, punch-in, and interrupted takes
offered back at the next start.

`attach(window)` does all the wiring; the window keeps one line. Core work lives in core.devices
(recording, meter, takes); studio.recording.landing stores takes and builds punch-ins.
"""

from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QMessageBox

from core.devices.playback import PlaybackUnavailable
from core.devices.recording import RecordedTake, input_devices, input_status
from core.devices.takes import PendingTake, pending_takes
from core.errors import LoaError
from studio.recording.controller import RecordingController
from studio.recording.landing import punch_in, punched_clip, store_pending, store_take
from studio.recording.meter_widget import LevelMeterWidget
from studio.recording.panel import RecordPanel
from studio.shell.clip_entry import ClipEntry
from studio.shell.settings import RECORD_RATES

__all__ = ["LevelMeterWidget", "RecordPanel", "RecordingController", "RecordingTools", "attach"]


class RecordingTools(QObject):
    def __init__(self, window, controller: Optional[RecordingController] = None) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller or RecordingController(window.settings, parent=self)
        self.panel = RecordPanel(self.controller)
        self.dock = QDockWidget("Recording", window)
        self.dock.setObjectName("recordingDock")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self._punch_base = None  # (entry, clip) a punch-in replaces part of, fixed when recording starts
        self._closing = False
        self._build_menus()
        self.panel.set_input_text(input_status(window.settings.input_device))

        c = self.controller
        self.panel.record_requested.connect(self.record)
        self.panel.stop_requested.connect(c.stop)
        self.panel.use_as_voice_requested.connect(self.use_last_take_as_voice)
        c.status.connect(self._status)
        c.take_finished.connect(self.land)
        c.state_changed.connect(self._state_changed)
        transport = getattr(window, "transport", None)  # the editor's transport bar, where it exists
        if transport is not None and hasattr(transport, "record_requested"):
            transport.record_requested.connect(lambda: self.toggle(into_selection=False))

    # ---- menus ----------------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        window = self.window
        settings_menu = _top_menu(window, "&Settings")
        self.input_menu = settings_menu.addMenu("Audio &input")
        self.input_menu.aboutToShow.connect(self.fill_input_menu)
        format_menu = settings_menu.addMenu("&Recording format")
        group = QActionGroup(self)
        for rate in RECORD_RATES:
            action = format_menu.addAction(f"{rate / 1000:g} kHz", lambda r=rate: setattr(window.settings, "record_rate", r))
            action.setCheckable(True)
            action.setChecked(rate == window.settings.record_rate)
            group.addAction(action)
        format_menu.addSeparator()
        group = QActionGroup(self)
        for label, channels in (("Channels as the input offers", 0), ("Mono", 1), ("Stereo", 2)):
            action = format_menu.addAction(label, lambda c=channels: setattr(window.settings, "record_channels", c))
            action.setCheckable(True)
            action.setChecked(channels == window.settings.record_channels)
            group.addAction(action)

        menu = _top_menu(window, "&Record", before="&Settings")
        self.record_action = menu.addAction("&Record / stop", lambda: self.toggle(into_selection=False))
        self.record_action.setShortcut(QKeySequence("R"))
        self.punch_action = menu.addAction("Record into &selection", lambda: self.toggle(into_selection=True))
        self.punch_action.setShortcut(QKeySequence("Shift+R"))
        menu.addAction("Reset the &clip light", self.controller.reset_clip)
        menu.addSeparator()
        menu.addAction("Recover &interrupted takes…", lambda: self.offer_pending_takes(quiet=False))
        self.voice_action = menu.addAction("Use last take as speech &voice", self.use_last_take_as_voice)
        menu.addAction("Show the recording &panel", lambda: (self.dock.show(), self.dock.raise_()))

    def fill_input_menu(self) -> None:
        menu = self.input_menu
        menu.clear()
        try:
            devices = input_devices()
        except PlaybackUnavailable as exc:
            menu.addAction(str(exc)).setEnabled(False)
            return
        if not devices:
            menu.addAction("No audio input found").setEnabled(False)
        chosen = self.window.settings.input_device
        default = menu.addAction("System default", lambda: self.set_input_device(None))
        default.setCheckable(True)
        default.setChecked(not chosen)
        for device in devices:
            action = menu.addAction(f"{device.label} · {device.max_input_channels} ch",
                                    lambda d=device: self.set_input_device(d.label))
            action.setCheckable(True)
            action.setChecked(device.label == chosen)

    def set_input_device(self, label: Optional[str]) -> None:
        self.window.settings.input_device = label
        text = input_status(label)
        self.panel.set_input_text(text)
        self.window.show_message(text)

    # ---- recording ------------------------------------------------------------------------------------
    def toggle(self, into_selection: bool = False) -> None:
        if self.controller.is_busy:
            self.controller.stop()
        else:
            self.record(into_selection)

    def record(self, into_selection: bool = False) -> bool:
        punch = None
        self._punch_base = None
        if into_selection:
            base = self._selected_range()
            if base is None:
                self.window.show_message("Record into selection: select a clip and drag across its waveform first.")
                return False
            entry, clip, punch = base
            self._punch_base = (entry, clip)
        self.window.auditioner.stop()  # what plays would be recorded too on a monitor input
        return self.controller.start(punch)

    def _selected_range(self):
        """(entry, clip, (start_s, end_s)) of the clip shown and its selection, or None without a selection.
        With the editor, its clip (edits included) and its selection (snapped to zero crossings if that is on)."""
        editor = getattr(self.window, "editor", None)
        if editor is not None:
            clip, sel = editor.controller.clip(), editor.controller.selection()
            if clip is None or sel.is_empty:
                return None
            return editor.controller.entry, clip, sel.seconds(clip.sample_rate)
        entry = self.window.selected_entry()
        waveform = self.window.waveform
        selection = waveform.selection() if waveform is not None else None
        if entry is None or selection is None or not selection[1] > selection[0]:
            return None
        return entry, entry.clip, (float(selection[0]), float(selection[1]))

    def land(self, take: RecordedTake, punch) -> None:
        """A finished take goes into the library (with device, rate, time), then into the editor. A punch-in
        replaces the selection of the clip it was recorded into: an undoable edit in the editor (or, without
        the editor, a new library item derived from that clip); the raw take is kept in the library too."""
        window = self.window
        try:
            item = store_take(window.library, take, window.settings.take_counter)
        except (OSError, LoaError) as exc:
            window.show_error(f"The take is kept in {take.path} but could not go into the library: {exc}")
            return
        take.discard_file()
        window.library_panel.library_changed()
        base, self._punch_base = self._punch_base, None
        message = f"{item.prompt}: {take.seconds:.1f} s from {take.device} stored in the library."
        if punch is not None and base is not None:
            message = self._punch(base, punch, take, item) or message
        elif not self._closing:
            window.show_entry(ClipEntry.from_library(item))
        if take.fault:
            window.show_error(take.fault)
        else:
            window.show_message(message)

    def _punch(self, base, punch, take: RecordedTake, item) -> str:
        window = self.window
        entry, clip = base
        editor = getattr(window, "editor", None)
        start, end = punch
        try:
            if editor is not None and editor.controller.clip() is clip:  # still the clip recorded into
                result = punched_clip(clip, punch, take.clip)
                operation = {**result.operation, "op": "punch_in", "take_library_id": item.id,
                             "take_device": take.device, "recorded_at": take.started}
                editor.controller.commit(result.clip, result.selection, operation, note=result.note)
                return (f"Punched in {end - start:.2f} s at {start:.2f} s (Ctrl+Z undoes it; Ctrl+S saves a new "
                        f"version); the raw take is {item.prompt} in the library.")
            result = punch_in(window.library, entry, punch, take)
        except (OSError, LoaError) as exc:
            window.show_error(f"Punch-in failed ({exc}); the take itself is {item.prompt} in the library.")
            return ""
        window.library_panel.library_changed()
        window.show_entry(result.entry)
        return result.message

    def use_last_take_as_voice(self) -> None:
        take = self.controller.last_take
        tools = getattr(self.window, "speech_tools", None)
        if take is None:
            self.window.show_message("Record a take first, then use it as the speech voice.")
        elif tools is None or not hasattr(tools, "set_reference_clip"):
            self.window.show_message("Speech voices are not available in this build.")
        elif tools.set_reference_clip(take.clip, f"take {self.window.settings.take_counter}"):
            self.window.show_message("The last take is now the reference voice for Speech mode.")

    # ---- interrupted takes ------------------------------------------------------------------------------
    def offer_pending_takes(self, quiet: bool = True,
                            ask: Optional[Callable[[list[PendingTake]], str]] = None) -> list:
        """Takes a crash or kill left behind: recover them into the library, discard them, or decide later.
        `ask` returns "recover" | "discard" | "later" (a dialog by default)."""
        takes = pending_takes(exclude=(self.controller.recorder.path,) if self.controller.recorder else ())
        if not takes:
            if not quiet:
                self.window.show_message("No interrupted takes to recover.")
            return []
        choice = (ask or self._ask_about_pending)(takes)
        if choice == "discard":
            for take in takes:
                take.discard()
            self.window.show_message(f"Discarded {len(takes)} interrupted take{'s' if len(takes) != 1 else ''}.")
            return []
        if choice != "recover":
            return []
        items = []
        for take in takes:
            try:
                items.append(store_pending(self.window.library, take))
            except (OSError, LoaError) as exc:
                self.window.show_error(f"Could not recover {take.path.name}: {exc} (the file is kept)")
                continue
            take.discard()
        if items:
            self.window.library_panel.library_changed()
            self.window.show_message(f"Recovered {len(items)} interrupted take{'s' if len(items) != 1 else ''} "
                                     "into the library.")
        return items

    def _ask_about_pending(self, takes: list[PendingTake]) -> str:
        lines = "\n".join(f"• {t.describe()}" + (f" (unreadable: {t.error})" if t.error else "") for t in takes)
        box = QMessageBox(QMessageBox.Icon.Question, "Interrupted recording",
                          f"A recording was interrupted (the app closed or crashed while recording):\n{lines}\n\n"
                          "Recover it into the library?", parent=self.window)
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return "recover" if box.clickedButton() is recover else "discard" if box.clickedButton() is discard else "later"

    # ---- status -----------------------------------------------------------------------------------------
    def _status(self, text: str) -> None:
        if text.startswith(("Recording stopped", "No audio input", "Cannot", "Audio is unavailable")):
            self.window.show_error(text)
        else:
            self.window.show_message(text)

    def _state_changed(self, state: str) -> None:
        transport = getattr(self.window, "transport", None)
        if transport is not None and hasattr(transport, "set_recording"):
            transport.set_recording(state != "idle")

    def shutdown(self) -> None:
        """The window closes: a take in progress goes into the library as a plain take (no punch-in, not shown)."""
        self._closing = True
        self._punch_base = None
        self.controller.shutdown()


def _top_menu(window, title: str, before: Optional[str] = None) -> QMenu:
    """The menu bar's menu with this title, created (before the menu titled `before`) if missing."""
    bar = window.menuBar()
    for action in bar.actions():
        if action.menu() is not None and action.text() == title:
            return action.menu()
    menu = QMenu(title, window)
    anchor = next((a for a in bar.actions() if a.text() == before), None)
    if anchor is not None:
        bar.insertMenu(anchor, menu)
    else:
        bar.addMenu(menu)
    return menu


def attach(window) -> RecordingTools:
    tools = RecordingTools(window)
    QTimer.singleShot(0, tools, tools.offer_pending_takes)  # once the window is up
    return tools
