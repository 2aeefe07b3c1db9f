"""MIDI input over python-rtmidi: ALSA first, JACK next, and a clear status line when there is neither.

Qt-free. No Python runs on the MIDI system's thread: rtmidi stamps each message there (its delta time, from
the driver's clock) and keeps it in its own ring buffer. A Python callback would have to take the GIL on
JACK's process thread, and while the GUI held it, JACK gave up on the client for that cycle (an xrun) and the
messages of the cycle were lost (clock pulses among them). A reader thread polls the buffer every millisecond,
turns the deltas into times, parses and queues; the GUI drains the queue from a timer (`drain()`), so no widget
is touched from a MIDI thread.

    midi = MidiInput()                 # never raises: `midi.status` says what is usable, or why nothing is
    midi.ports()                       # re-scans: ['sender:virt-out', ...]
    midi.open("virt-out")              # a port by (part of) its name; True when open
    midi.open_many(["pads", "DAW"])    # several at once (each its own rtmidi client); the ports opened
    for event in midi.drain():         # core.devices.midi_messages.MidiEvent, oldest first; .source: its port
        ...
    midi.check()                       # call every second or so: a vanished port closes, a returning one reopens

Without /dev/snd/seq (as in most containers), rtmidi raises its SystemError for ALSA; without a running jackd it raises
the same for JACK. Both are caught here; `status` then reads "No MIDI system: ..." naming what to start.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import replace
from typing import Callable, Optional

import numpy as np

from core.errors import LoaError, first_line
from core.quiet import quiet_native_libraries

from .midi_messages import MidiEvent, parse_message

CLIENT_NAME = "LOA Studio"
POLL_SECONDS = 0.001  # the reader's idle wait: adds at most a millisecond to a pad's latency
QUEUE_MESSAGES = 8192  # rtmidi's ring buffer: minutes of clock if the reader is held up
API_NAMES = {"alsa": "ALSA", "jack": "JACK"}


class MidiUnavailable(LoaError):
    """No MIDI system can be used; the message names what is missing and what to do."""


def _rtmidi():
    try:
        import rtmidi
    except ImportError as exc:  # pragma: no cover - a dependency, but a broken install must not crash the app
        raise MidiUnavailable(f"No MIDI system: python-rtmidi cannot be imported ({first_line(exc)}).") from exc
    return rtmidi


def _api_ids(rtmidi) -> dict[str, int]:
    return {"alsa": rtmidi.API_LINUX_ALSA, "jack": rtmidi.API_UNIX_JACK}


def open_client(kind: str = "in", name: str = CLIENT_NAME, apis: tuple[str, ...] = ("alsa", "jack")):
    """A rtmidi MidiIn (kind "in") or MidiOut on the first API of `apis` that works: (client, api name).

    Raises MidiUnavailable naming every API tried and why it failed.
    """
    rtmidi = _rtmidi()
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # asking for JACK must never launch a server
    compiled = set(rtmidi.get_compiled_api())
    ids = _api_ids(rtmidi)
    reasons = []
    for api in apis:
        if ids[api] not in compiled:
            reasons.append(f"{API_NAMES[api]} not built into python-rtmidi")
            continue
        if api == "alsa" and not os.path.exists("/dev/snd/seq"):
            reasons.append(f"ALSA: {_reason(api, None)}")  # rtmidi would fail (and alsa-lib print to stderr)
            continue
        quiet_native_libraries()  # libjack prints a paragraph when no server runs; the status says it
        try:
            if kind == "in":
                return rtmidi.MidiIn(rtapi=ids[api], name=name, queue_size_limit=QUEUE_MESSAGES), api
            return rtmidi.MidiOut(rtapi=ids[api], name=name), api
        except (rtmidi.RtMidiError, RuntimeError) as exc:  # rtmidi's SystemError is an RtMidiError
            reasons.append(f"{API_NAMES[api]}: {_reason(api, exc)}")
    raise MidiUnavailable("No MIDI system: " + "; ".join(reasons) + ".")


def _reason(api: str, exc: BaseException) -> str:
    if api == "alsa" and not os.path.exists("/dev/snd/seq"):
        return "no ALSA sequencer (/dev/snd/seq missing; load snd-seq)"
    if api == "jack":
        return "JACK server not running (start jackd or PipeWire's JACK)"
    return first_line(exc)


class _Port:
    """One open input port: its own rtmidi client (an rtmidi MidiIn listens to one port) and its time anchor."""

    def __init__(self, name: str, client) -> None:
        self.name = name
        self.client = client
        self.last_time: Optional[float] = None


class MidiInput:
    """MIDI input ports chosen by name (one or several at once: a controller's notes and a DAW's clock), with one
    queue of parsed events; each event says which port it came from (`MidiEvent.source`)."""

    def __init__(self, client_name: str = CLIENT_NAME, apis: tuple[str, ...] = ("alsa", "jack"),
                 on_event: Optional[Callable[[], None]] = None) -> None:
        self.client_name = client_name
        self.apis = apis
        self.on_event = on_event  # optional wake-up (called on the reader thread; must only signal)
        self._queue: "queue.SimpleQueue[MidiEvent]" = queue.SimpleQueue()
        self._client = None  # lists the ports; each open port has a client of its own
        self.api: Optional[str] = None
        self.wanted: list[str] = []  # the ports the user chose (kept while one is unplugged)
        self._open: dict[str, _Port] = {}  # port name -> the open port
        self._last_time: Optional[float] = None  # the stamping anchor of `_receive` called directly (tests)
        self._lock = threading.Lock()
        self._reader: Optional[threading.Thread] = None
        self._stop_reader = threading.Event()
        self.status = ""
        self._connect()

    # ---- system ----------------------------------------------------------------------------------------
    def _connect(self) -> bool:
        try:
            self._client, self.api = open_client("in", self.client_name, self.apis)
        except MidiUnavailable as exc:
            self._client, self.api = None, None
            self.status = str(exc)
            return False
        self.status = f"MIDI ({API_NAMES[self.api]}): no input chosen"
        return True

    @property
    def available(self) -> bool:
        return self._client is not None

    @property
    def port(self) -> Optional[str]:
        """The first open port (None when none is open)."""
        return next(iter(self._open), None)

    @property
    def open_ports(self) -> list[str]:
        return list(self._open)

    def ports(self) -> list[str]:
        """The input ports now present (re-scanned every call); [] without a MIDI system."""
        if self._client is None and not self._connect():
            return []
        try:
            return list(self._client.get_ports())
        except Exception:  # noqa: BLE001 - a server that went away lists nothing
            return []

    # ---- ports -----------------------------------------------------------------------------------------
    def open(self, name: Optional[str]) -> bool:
        """Listen to the one port whose name equals or contains `name` (others close); None or "" closes all."""
        return bool(self.open_many([name] if name else []))

    def open_many(self, names: list[str]) -> list[str]:
        """Listen to each of `names` (a port's name or part of it) at once; returns the ports opened. The others
        close. A name not present now is remembered and opened when it comes (check()). A port already open and
        still wanted stays open: ticking a second input must not interrupt a clock arriving on the first."""
        self.wanted = [n for n in dict.fromkeys(names) if n]
        ports = self.ports() if self.wanted else []
        still_wanted = {_find_port(ports, name) for name in self.wanted}
        for name in [name for name in self._open if name not in still_wanted]:
            self.close_port(name)
        if not self.wanted:
            if self.available:
                self.status = f"MIDI ({API_NAMES[self.api]}): no input chosen"
            return []
        if self._client is None:
            return []
        problems = [problem for name in self.wanted if (problem := self._open_port(ports, name))]
        self._report(problems)
        if self._open:
            self._start_reader()
        return self.open_ports

    def _open_port(self, ports: list[str], name: str) -> Optional[str]:
        """Open one wanted port; None when open, else the line saying why not."""
        match = _find_port(ports, name)
        if match is None:
            return f"MIDI input “{name}” not found; connect it or choose another in Settings."
        if match in self._open:
            return None
        try:
            client, _ = open_client("in", self.client_name, (self.api,))
            client.ignore_types(sysex=False, timing=False, active_sense=False)
            # Nothing is filtered inside rtmidi: each message's delta counts from the one before it, so a dropped
            # message would take its time with it. Parsing leaves out what the app does not use.
            client.open_port(ports.index(match), f"{self.client_name} in")
        except Exception as exc:  # noqa: BLE001 - rtmidi raises its own errors for a busy or vanished port
            return f"Cannot open MIDI input “{match}”: {first_line(exc)}"
        with self._lock:
            self._open[match] = _Port(match, client)
        return None

    def _report(self, problems: list[str]) -> None:
        if problems:
            self.status = " ".join(problems)
        elif self._open:
            self.status = f"MIDI input: {', '.join(self._open)} ({API_NAMES[self.api]})"

    def close_port(self, name: Optional[str] = None) -> None:
        """Close one open port by its name, or all of them."""
        with self._lock:
            closing = [p for n, p in self._open.items() if name is None or n == name]
            for port in closing:
                del self._open[port.name]
        if not self._open:
            self._stop_reading()
        for port in closing:
            try:
                port.client.close_port()
            except Exception:  # noqa: BLE001 - closing a vanished port must not raise
                pass

    def close(self) -> None:
        self.close_port()
        self._client = None  # rtmidi frees the client when the object goes

    def check(self) -> bool:
        """Hot-plug: close ports that have disappeared, reopen chosen ones that are back, and connect to a MIDI
        system that has started since. Returns True when the status changed."""
        before = self.status
        if self._client is None:
            if self._connect() and self.wanted:
                self.open_many(self.wanted)
            return self.status != before
        ports = self.ports()
        gone = [name for name in self._open if name not in ports]
        for name in gone:
            self.close_port(name)
        back = [name for name in self.wanted if _find_port(ports, name) not in (None, *self._open)]
        problems = [problem for name in back if (problem := self._open_port(ports, name))]
        if back and self._open:
            self._start_reader()
        if gone:
            self.status = " ".join(f"MIDI input “{name}” disconnected; it reopens when it is back."
                                   for name in gone)
        elif back:
            self._report(problems)
        return self.status != before

    # ---- events ----------------------------------------------------------------------------------------
    def _start_reader(self) -> None:
        if self._reader is not None and self._reader.is_alive():
            return
        self._stop_reader.clear()
        self._reader = threading.Thread(target=self._read, name="LOA MIDI reader", daemon=True)
        self._reader.start()

    def _stop_reading(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            self._stop_reader.set()
            if reader is not threading.current_thread():
                reader.join(timeout=1.0)

    def _read(self) -> None:
        """The reader thread: take every message rtmidi holds for each port, stamp and queue them, wait a
        millisecond."""
        while not self._stop_reader.is_set():
            with self._lock:
                ports = list(self._open.values())
            got = False
            for port in ports:
                batch = []
                while len(batch) < 1000:
                    with self._lock:
                        try:
                            item = port.client.get_message() if port.name in self._open else None
                        except Exception:  # noqa: BLE001 - a server going away must not kill the reader
                            item = None
                    if not item:
                        break
                    batch.append(item)
                if batch:
                    self._receive(batch, time.monotonic(), port)
                    got = True
            if got and self.on_event is not None:
                self.on_event()
            self._stop_reader.wait(POLL_SECONDS)

    def _receive(self, batch: list, now: float, port: Optional[_Port] = None) -> None:
        """Stamp, parse and queue messages of one port read together at `now`: [(bytes, delta), ...] oldest first.

        rtmidi's delta (seconds since the message before, measured by the MIDI system as the message came in)
        keeps each message's own time however late it is read. The batch is placed from its end: the last
        message came in no later than `now`, and no later than the running sum of deltas says (so one late read
        only shifts the anchor until a prompt one pulls it back)."""
        last = port.last_time if port is not None else self._last_time
        deltas = [0.0 if last is None and i == 0 else max(0.0, float(d)) for i, (_, d) in enumerate(batch)]
        offsets = np.cumsum(deltas)  # each message's time from the first of the batch
        end = now if last is None else min(now, last + float(offsets[-1]))
        source = port.name if port is not None else ""
        for (message, _), offset in zip(batch, offsets):
            event = parse_message(message, end - float(offsets[-1] - offset))
            if event is not None:
                self._queue.put(replace(event, source=source) if source else event)
        if port is not None:
            port.last_time = end
        else:
            self._last_time = end

    def drain(self, limit: int = 10_000) -> list[MidiEvent]:
        """The events received since the last drain, oldest first (called from the GUI thread)."""
        events = []
        while len(events) < limit:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return events


def _find_port(ports: list[str], name: str) -> Optional[str]:
    wanted = name.lower()
    exact = [p for p in ports if p.lower() == wanted]
    partial = [p for p in ports if wanted in p.lower()]
    return (exact or partial or [None])[0]
