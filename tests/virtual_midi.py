"""A virtual MIDI output port: what a DAW or a controller sends from, for the MIDI tests and the latency benchmark
(the product only reads MIDI). JACK or ALSA as available, through core.devices.midi.open_client."""

from __future__ import annotations

import time

from core.devices.midi import open_client


class VirtualOutput:
    """A virtual MIDI output port (what a DAW or a test sends from); JACK or ALSA as available."""

    def __init__(self, port_name: str = "LOA test out", client_name: str = "LOA sender") -> None:
        self._client, self.api = open_client("out", client_name)
        self._client.open_virtual_port(port_name)
        self.port_name = port_name

    def send(self, message: list[int]) -> float:
        """Send one message; returns time.monotonic() just before it left (the note-on timestamp)."""
        stamp = time.monotonic()
        self._client.send_message(message)
        return stamp

    def close(self) -> None:
        # close_port() removes the virtual port at once; rtmidi's delete() after it crashed on JACK.
        if self._client is not None:
            try:
                self._client.close_port()
            except Exception:  # noqa: BLE001
                pass
        self._client = None
