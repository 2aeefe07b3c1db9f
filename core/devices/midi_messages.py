"""MIDI messages as the app uses them: raw bytes from python-rtmidi parsed into small immutable events.

Qt-free and device-free, so parsing is tested without any MIDI system.

    event = parse_message([0x90, 36, 100], timestamp=12.5)
    event.kind == "note_on"; event.channel == 0; event.number == 36; event.value == 100

Kinds: note_on (velocity > 0), note_off (0x80, or note-on with velocity 0 as running-status senders do),
cc (number, value), clock (0xF8, 24 per quarter note), start, stop, continue, song_position (value = the
position in MIDI beats, i.e. sixteenth notes), program, pitch_bend, aftertouch. Anything else -> None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

CLOCK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
PULSES_PER_QUARTER = 24
PULSES_PER_SIXTEENTH = 6  # Song Position Pointer counts sixteenth notes ("MIDI beats")

_REALTIME = {CLOCK: "clock", START: "start", CONTINUE: "continue", STOP: "stop"}
_CHANNEL_KINDS = {0x80: "note_off", 0x90: "note_on", 0xA0: "aftertouch", 0xB0: "cc", 0xC0: "program",
                  0xD0: "aftertouch", 0xE0: "pitch_bend"}


@dataclass(frozen=True)
class MidiEvent:
    """One parsed message. `timestamp` is seconds on the receiver's clock (time.monotonic by default)."""

    kind: str
    channel: Optional[int] = None  # 0-15 for channel messages
    number: Optional[int] = None  # note or controller number
    value: Optional[int] = None  # velocity, controller value, song position (sixteenths), pitch bend
    timestamp: float = 0.0
    source: str = ""  # the input port it came from (core.devices.midi sets it; "" when fed directly)

    @property
    def is_transport(self) -> bool:
        return self.kind in ("start", "stop", "continue", "song_position")

    def describe(self) -> str:
        """What a user reads in the MIDI learn list: 'note 36 (ch 1)', 'CC 7 (ch 1)'."""
        if self.kind in ("note_on", "note_off"):
            return f"note {self.number} ({note_name(self.number)}, ch {self.channel + 1})"
        if self.kind == "cc":
            return f"CC {self.number} (ch {self.channel + 1})"
        return self.kind.replace("_", " ")


def parse_message(data: Sequence[int], timestamp: float = 0.0) -> Optional[MidiEvent]:
    """The event for one raw message, or None for messages the app does not use (sysex, active sensing...)."""
    if not data:
        return None
    status = int(data[0])
    if status in _REALTIME:
        return MidiEvent(_REALTIME[status], timestamp=timestamp)
    if status == SONG_POSITION:
        if len(data) < 3:
            return None
        return MidiEvent("song_position", value=(data[1] & 0x7F) | ((data[2] & 0x7F) << 7), timestamp=timestamp)
    if status < 0x80 or status >= 0xF0:
        return None
    kind, channel = _CHANNEL_KINDS[status & 0xF0], status & 0x0F
    if kind in ("program",) or (kind == "aftertouch" and status & 0xF0 == 0xD0):
        return MidiEvent(kind, channel, value=data[1] if len(data) > 1 else 0, timestamp=timestamp)
    if len(data) < 3:
        return None
    first, second = data[1] & 0x7F, data[2] & 0x7F
    if kind == "pitch_bend":
        return MidiEvent(kind, channel, value=first | (second << 7), timestamp=timestamp)
    if kind == "note_on" and second == 0:
        kind = "note_off"
    return MidiEvent(kind, channel, number=first, value=second, timestamp=timestamp)


_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def note_name(number: int) -> str:
    """'C1' for 36 (the convention most DAWs and pad controllers print: middle C, 60, is C3)."""
    return f"{_NAMES[number % 12]}{number // 12 - 2}"


# Builders for senders (tests, the benchmark, a DAW-side script).
def note_on(note: int, velocity: int, channel: int = 0) -> list[int]:
    return [0x90 | channel, note & 0x7F, velocity & 0x7F]


def note_off(note: int, channel: int = 0) -> list[int]:
    return [0x80 | channel, note & 0x7F, 0]


def control_change(number: int, value: int, channel: int = 0) -> list[int]:
    return [0xB0 | channel, number & 0x7F, value & 0x7F]


def song_position(sixteenths: int) -> list[int]:
    return [SONG_POSITION, sixteenths & 0x7F, (sixteenths >> 7) & 0x7F]
