"""Pads like a sampler's: 16 pads per bank, 4 banks; notes pick pads, velocity sets gain, gate or one-shot.

Qt-free. What a pad holds is a Clip plus a label and where it came from (a candidate in memory, or a library
item by id); playing is core.devices.pad_player's job. The mapping follows pad controllers' factory layout:
notes 36-51 (C1-D#2, GM drum map's first 16) are pads 1-16 of the current bank, on any channel unless one is
set. The computer keyboard plays the same pads on four rows of keys (KEY_ROWS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from core.audio.clip import Clip

PADS_PER_BANK = 16
BANKS = 4
FIRST_NOTE = 36
MODES = ("one-shot", "gate")  # one-shot: plays to its end; gate: note-off (or key release) stops it
# Pads 1-16 from the computer keyboard, top-left to bottom-right as the grid draws them.
KEY_ROWS = ("1234", "QWER", "ASDF", "ZXCV")
PAD_KEYS = "".join(KEY_ROWS)


def velocity_gain(velocity: int) -> float:
    """Velocity 1-127 -> amplitude gain: (v / 127)^2 (half velocity is -12 dB, as acoustic instruments feel)."""
    v = max(0, min(127, int(velocity)))
    return (v / 127.0) ** 2


@dataclass
class Pad:
    clip: Optional[Clip] = None
    label: str = ""
    mode: str = "one-shot"
    source: dict = field(default_factory=dict)  # {"library_id": 12} or {"candidate": "prompt, seed"}

    @property
    def empty(self) -> bool:
        return self.clip is None


class PadBank:
    """All pads (BANKS x PADS_PER_BANK), the bank shown and played, and the note mapping."""

    def __init__(self, first_note: int = FIRST_NOTE, channel: Optional[int] = None) -> None:
        self.pads = [Pad() for _ in range(BANKS * PADS_PER_BANK)]
        self.bank = 0
        self.first_note = first_note
        self.channel = channel  # None: any channel

    def slot(self, pad: int, bank: Optional[int] = None) -> int:
        """The index into `pads` of pad 0-15 of `bank` (the current bank when None)."""
        return (self.bank if bank is None else bank) * PADS_PER_BANK + pad

    def pad(self, pad: int, bank: Optional[int] = None) -> Pad:
        return self.pads[self.slot(pad, bank)]

    def assign(self, pad: int, clip: Clip, label: str, source: Optional[dict] = None,
               bank: Optional[int] = None) -> Pad:
        old = self.pad(pad, bank)
        new = Pad(clip=clip, label=label, mode=old.mode, source=dict(source or {}))
        self.pads[self.slot(pad, bank)] = new
        return new

    def clear(self, pad: int, bank: Optional[int] = None) -> None:
        self.pads[self.slot(pad, bank)] = Pad(mode=self.pad(pad, bank).mode)

    def set_mode(self, pad: int, mode: str, bank: Optional[int] = None) -> None:
        if mode not in MODES:
            raise ValueError(f"pad mode must be one of {MODES}")
        self.pad(pad, bank).mode = mode

    def set_bank(self, bank: int) -> int:
        self.bank = max(0, min(BANKS - 1, int(bank)))
        return self.bank

    def bank_for_cc(self, value: int) -> int:
        """A CC value 0-127 spread over the banks (a knob or fader picks the bank)."""
        return self.set_bank(min(BANKS - 1, int(value) * BANKS // 128))

    def pad_for_note(self, note: int, channel: Optional[int] = None) -> Optional[int]:
        """Pad 0-15 of the current bank for a note, or None when the note (or channel) is not a pad's."""
        if self.channel is not None and channel is not None and channel != self.channel:
            return None
        pad = note - self.first_note
        return pad if 0 <= pad < PADS_PER_BANK else None

    def note_for_pad(self, pad: int) -> int:
        return self.first_note + pad


def pad_for_key(text: str) -> Optional[int]:
    """Pad 0-15 for a key's text ('1', 'q', 'Q'...), None for other keys."""
    key = text.upper()
    return PAD_KEYS.index(key) if len(key) == 1 and key in PAD_KEYS else None
