"""The window's MIDI hub: drains core.devices.midi's queue on the GUI thread and turns events into pad hits, learned
actions, the session tempo and transport commands (all as Qt signals).

rtmidi's thread only enqueues (core.devices.midi) and pokes `_wake`, a queued signal, so a note is handled at the
next turn of the event loop rather than at the next timer tick; a 50 ms timer drains as a fallback, and a 1 s timer
re-scans ports (hot-plug). Pads play through core.devices.pad_player (one open stream).
"""

from __future__ import annotations

import json
from typing import Optional

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from core.audio.clip import Clip, load_clip
from core.devices.midi import MidiInput
from core.devices.midi_learn import MidiMap
from core.devices.midi_messages import MidiEvent
from core.devices.pad_player import PadPlayer
from core.devices.pads import PADS_PER_BANK, PadBank, velocity_gain
from core.devices.playback import PlaybackUnavailable
from core.errors import InputError, LoaError
from core.tempo.bars import check_bpm
from core.tempo.transport import TapTempo, Transport
from studio.midi.pad_files import prune_pad_files
from studio.midi.store import MidiSettings

TEMPO_STEP = 0.05  # BPM: smaller clock wobbles do not repaint the window


class MidiController(QObject):
    action = Signal(str, object)  # a learned action fired: name, CC value (continuous actions) or None
    transport = Signal(str, float)  # "start", "stop", "continue", "position"; the position in seconds
    tempo_changed = Signal(float, str)  # bpm, source: "clock", "tap" or "manual"
    status_changed = Signal(str)
    pad_started = Signal(int)  # pad 0-15 of the current bank
    pads_changed = Signal()
    bank_changed = Signal(int)
    learned = Signal(object)  # core.devices.midi_learn.LearnResult
    _wake = Signal()

    def __init__(self, settings, midi_input: Optional[MidiInput] = None, pad_player: Optional[PadPlayer] = None,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.store = MidiSettings(settings)
        self._wake.connect(self.drain, Qt.ConnectionType.QueuedConnection)
        self.midi = midi_input if midi_input is not None else MidiInput(on_event=self._wake.emit)
        if midi_input is not None:
            midi_input.on_event = self._wake.emit
        self.pads = PadBank()
        self.player = pad_player if pad_player is not None else PadPlayer(device=settings.audio_device)
        self.mapping = MidiMap.from_json(self.store.mapping, pad_note=self.pads.pad_for_note)
        self.transport_state = Transport()
        self.tapper = TapTempo()
        self.bpm = self.store.bpm
        self.beats_per_bar = self.store.beats_per_bar
        self.beat_unit = self.store.beat_unit
        self.tempo_source = "manual"
        self.kit_problems = self.restore_pads()
        self.pads_changed.connect(self.save_pads)
        self._clock_source: Optional[str] = None  # the input whose clock sets the tempo (one at a time)
        if self.store.input_ports:
            self.midi.open_many(self.store.input_ports)
        self._drain_timer = QTimer(self, interval=50)
        self._drain_timer.timeout.connect(self.drain)
        self._drain_timer.start()
        self._plug_timer = QTimer(self, interval=1000)
        self._plug_timer.timeout.connect(self.check_ports)
        self._plug_timer.start()

    # ---- input ----------------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return self.midi.status

    def ports(self) -> list[str]:
        return self.midi.ports()

    def choose_input(self, port: Optional[str]) -> bool:
        """Listen to one input only (None: none)."""
        return bool(self.choose_inputs([port] if port else []))

    def choose_inputs(self, ports: list[str]) -> list[str]:
        """Listen to these inputs at once (a controller's notes and a DAW's clock); returns those open now."""
        opened = self.midi.open_many(ports)
        self.store.input_ports = list(ports)
        self.status_changed.emit(self.midi.status)
        return opened

    def check_ports(self) -> None:
        if self.midi.check():
            self.status_changed.emit(self.midi.status)
        self._release_clock()

    def drain(self) -> None:
        for event in self.midi.drain():
            self.handle(event)
        self._release_clock()

    def _release_clock(self) -> None:
        """The clock stopped (no pulse for a second) or its port went away: the tempo field takes typed and tapped
        values again, starting from the clock's last tempo."""
        if self.tempo_source == "clock" and not self.clock_running:
            self.transport_state.clock.reset()
            self._clock_source = None
            self._set_tempo(self.bpm, "manual")

    def handle(self, event: MidiEvent) -> None:
        """One event, on the GUI thread: learn, transport and clock, learned actions, then pads."""
        if self.mapping.learning is not None:
            result = self.mapping.learn(event)
            if result is not None:
                if self.mapping.learning is None:
                    self.store.mapping = self.mapping.to_json()
                self.learned.emit(result)
                return
        if event.kind == "clock" or event.is_transport:
            self._transport_event(event)
            return
        hit = self.mapping.action_for(event)
        if hit is not None:
            self.run_action(*hit)
            return
        if event.kind in ("note_on", "note_off"):
            pad = self.pads.pad_for_note(event.number, event.channel)
            if pad is None:
                return
            if event.kind == "note_on":
                self.trigger_pad(pad, velocity_gain(event.value))
            else:
                self.release_pad(pad)

    def _transport_event(self, event: MidiEvent) -> None:
        if event.kind == "clock":
            # One clock sets the tempo: the first input that sends one, until it stops (two DAWs' pulses
            # interleaved would read as neither's tempo).
            if self._clock_source is None or not self.clock_running:
                self._clock_source = event.source
            elif event.source != self._clock_source:
                return
        what = self.transport_state.handle(event)
        clock_bpm = self.transport_state.bpm
        if event.kind == "clock" and clock_bpm is not None and abs(clock_bpm - self.bpm) >= TEMPO_STEP:
            self._set_tempo(round(clock_bpm, 2), "clock")
        if what is not None:
            self.transport.emit(what, self.transport_state.state.seconds(self.bpm))

    # ---- tempo ----------------------------------------------------------------------------------------
    @property
    def clock_running(self) -> bool:
        return self.transport_state.clock.is_running()

    def set_bpm(self, bpm: float, source: str = "manual") -> None:
        """A tempo typed or tapped (ignored while a MIDI clock sets it); InputError for a bad value."""
        bpm = check_bpm(bpm)
        if self.clock_running and source != "clock":
            return
        self._set_tempo(bpm, source)

    def _set_tempo(self, bpm: float, source: str) -> None:
        self.bpm = bpm
        self.tempo_source = source
        self.store.bpm = bpm
        self.tempo_changed.emit(bpm, source)

    def set_beats_per_bar(self, beats: int) -> None:
        self.beats_per_bar = max(1, min(16, int(beats)))
        self.store.beats_per_bar = self.beats_per_bar
        self.tempo_changed.emit(self.bpm, self.tempo_source)  # what depends on the meter shows it again

    def set_beat_unit(self, unit: int) -> None:
        """The meter's lower number (4 for x/4, 8 for 7/8 or 6/8); the tempo still counts quarter notes."""
        from core.tempo.bars import BEAT_UNITS

        self.beat_unit = int(unit) if int(unit) in BEAT_UNITS else 4
        self.store.beat_unit = self.beat_unit
        self.tempo_changed.emit(self.bpm, self.tempo_source)

    def tap(self) -> Optional[float]:
        bpm = self.tapper.tap()
        if bpm is not None:
            try:
                self.set_bpm(round(bpm, 1), "tap")
            except InputError:
                return None
        return bpm

    # ---- actions --------------------------------------------------------------------------------------
    def run_action(self, name: str, value: Optional[int] = None) -> None:
        if name == "output_gain" and value is not None:
            self.player.output_gain = value / 127.0
        elif name == "pad_bank" and value is not None:
            self.bank_changed.emit(self.pads.bank_for_cc(value))
        elif name == "tap_tempo":
            self.tap()
        self.action.emit(name, value)

    def start_learning(self, action: str) -> None:
        self.mapping.start_learning(action)

    def clear_mapping(self, action: Optional[str] = None) -> None:
        self.mapping.clear(action)
        self.store.mapping = self.mapping.to_json()

    # ---- pads -----------------------------------------------------------------------------------------
    def set_bank(self, bank: int) -> None:
        self.bank_changed.emit(self.pads.set_bank(bank))

    def assign_pad(self, pad: int, clip: Clip, label: str, source: Optional[dict] = None) -> None:
        self.pads.assign(pad, clip, label, source)
        self.player.load(self.pads.slot(pad), clip)
        self._ensure_output()
        self.pads_changed.emit()

    def clear_pad(self, pad: int) -> None:
        self.pads.clear(pad)
        self.player.load(self.pads.slot(pad), None)
        self.pads_changed.emit()

    def set_pad_mode(self, pad: int, mode: str) -> None:
        self.pads.set_mode(pad, mode)
        self.pads_changed.emit()

    def save_pads(self) -> None:
        """Remember the kit: each pad's file (a library item's audio file, a dropped file, or the durable copy of
        a take that was only in memory, studio.midi.pad_files) and mode; copies no pad holds any more go."""
        kit = [{"slot": slot, "file": pad.source.get("file"), "label": pad.label, "mode": pad.mode}
               for slot, pad in enumerate(self.pads.pads) if pad.source.get("file") or pad.mode != "one-shot"]
        self.store.pads = json.dumps(kit)
        prune_pad_files(item["file"] for item in kit)

    def restore_pads(self) -> list[str]:
        """Load the remembered kit; returns one line per pad whose file could not be read (the rest still load)."""
        try:
            kit = json.loads(self.store.pads)
        except ValueError:
            return ["the remembered pad kit was unreadable and is ignored"]
        problems = []
        for item in kit if isinstance(kit, list) else []:
            try:
                slot, mode = int(item["slot"]), item.get("mode", "one-shot")
                bank, pad = divmod(slot, PADS_PER_BANK)
                if item.get("file"):
                    clip = load_clip(item["file"])
                    self.pads.assign(pad, clip, str(item.get("label") or ""), {"file": item["file"]}, bank=bank)
                    self.player.load(slot, clip)
                self.pads.set_mode(pad, mode, bank=bank)
            except (KeyError, TypeError, ValueError, IndexError, LoaError) as exc:
                problems.append(f"pad {int(item.get('slot', 0)) % PADS_PER_BANK + 1}: {exc}")
        return problems

    def trigger_pad(self, pad: int, gain: float = 1.0) -> bool:
        slot = self.pads.slot(pad)
        if not self.player.has(slot) or not self._ensure_output():
            return False
        self.player.trigger(slot, gain)
        self.pad_started.emit(pad)
        return True

    def release_pad(self, pad: int) -> None:
        if self.pads.pad(pad).mode == "gate":
            self.player.release(self.pads.slot(pad))

    def stop_pads(self) -> None:
        self.player.stop_all()

    def _ensure_output(self) -> bool:
        if self.player.is_open:
            return True
        try:
            self.player.open()
        except PlaybackUnavailable as exc:
            self.status_changed.emit(f"Pads cannot play: {exc}")
            return False
        return True

    def set_audio_device(self, device: Optional[str]) -> None:
        self.player.close()
        self.player.device = device

    def close(self) -> None:
        self._drain_timer.stop()
        self._plug_timer.stop()
        self.release_devices()

    def release_devices(self) -> None:
        """Close the pad stream and the MIDI client (plain Python objects: safe while Qt tears the window down)."""
        self.player.close()
        self.midi.close()
