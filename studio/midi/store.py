"""What the MIDI features remember in studio.ini: input ports, learned mappings, session tempo and meter, the
compact window's place. Typed accessors over StudioSettings' QSettings (kept here so settings.py stays small)."""

from __future__ import annotations

import json
from typing import Optional

from PySide6.QtCore import QByteArray

DEFAULT_BPM = 120.0


class MidiSettings:
    def __init__(self, settings) -> None:
        self._settings = settings

    def _get(self, key, default, kind):
        return self._settings._get(key, default, kind)

    def _set(self, key, value) -> None:
        self._settings._set(key, value)

    @property
    def input_port(self) -> str:
        return self._get("midi/input", "", str)

    @input_port.setter
    def input_port(self, value: str) -> None:
        self._set("midi/input", value or "")

    @property
    def input_ports(self) -> list[str]:
        """The inputs listened to at once (a controller and a DAW's clock); older settings hold one `midi/input`."""
        try:
            value = json.loads(self._get("midi/inputs", "", str) or "null")
        except ValueError:
            value = None
        if isinstance(value, list):
            return [str(v) for v in value if v]
        return [self.input_port] if self.input_port else []

    @input_ports.setter
    def input_ports(self, value: list[str]) -> None:
        self._set("midi/inputs", json.dumps([v for v in value if v]))
        self.input_port = value[0] if value else ""

    @property
    def mapping(self) -> str:
        return self._get("midi/mapping", "{}", str)

    @mapping.setter
    def mapping(self, value: str) -> None:
        self._set("midi/mapping", value)
        self._settings.sync()

    @property
    def bpm(self) -> float:
        value = self._get("tempo/bpm", DEFAULT_BPM, float)
        return value if 20.0 <= value <= 400.0 else DEFAULT_BPM

    @bpm.setter
    def bpm(self, value: float) -> None:
        self._set("tempo/bpm", float(value))

    @property
    def beats_per_bar(self) -> int:
        value = self._get("tempo/beats_per_bar", 4, int)
        return value if 1 <= value <= 16 else 4

    @beats_per_bar.setter
    def beats_per_bar(self, value: int) -> None:
        self._set("tempo/beats_per_bar", int(value))

    @property
    def beat_unit(self) -> int:
        value = self._get("tempo/beat_unit", 4, int)
        return value if value in (1, 2, 4, 8, 16) else 4

    @beat_unit.setter
    def beat_unit(self, value: int) -> None:
        self._set("tempo/beat_unit", int(value))

    @property
    def pads(self) -> str:
        """The pad kit as JSON: [{"slot", "file", "label", "mode"}, ...] (pads holding a file or in gate mode)."""
        return self._get("pads/kit", "[]", str)

    @pads.setter
    def pads(self, value: str) -> None:
        self._set("pads/kit", value)
        self._settings.sync()

    @property
    def compact_geometry(self) -> Optional[QByteArray]:
        value = self._settings._qs.value("compact/geometry")
        return value if isinstance(value, QByteArray) else None

    @compact_geometry.setter
    def compact_geometry(self, value: QByteArray) -> None:
        self._set("compact/geometry", value)
        self._settings.sync()
