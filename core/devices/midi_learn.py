"""MIDI learn: bind a controller's notes and CCs to the app's actions, persist the bindings, report conflicts.

Qt-free. The studio starts learning for an action, feeds every incoming event to `learn`, and afterwards asks
`action_for(event)` which action an event fires.

    mapping = MidiMap()
    mapping.start_learning("generate")
    result = mapping.learn(event)            # LearnResult(action, trigger, conflict message or None)
    mapping.action_for(event)                # ("generate", None); CCs of continuous actions give their value 0-127
    text = mapping.to_json(); MidiMap.from_json(text)

A trigger bound to another action is moved to the new one, and the result says what it was bound to; a note
that also plays a pad is bound too (actions take precedence over pads) and the conflict is reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Optional

from .midi_messages import MidiEvent, note_name

# Actions a button (a note or a CC press) fires, and continuous ones a knob or fader (a CC) sets.
BUTTON_ACTIONS = {
    "play_stop": "Play / stop", "record": "Record", "generate": "Generate", "next_take": "Next take",
    "previous_take": "Previous take", "keep": "Keep", "cancel": "Cancel", "tap_tempo": "Tap tempo",
}
CONTINUOUS_ACTIONS = {"output_gain": "Output gain", "pad_bank": "Pad bank"}
ACTIONS = {**BUTTON_ACTIONS, **CONTINUOUS_ACTIONS}


@dataclass(frozen=True)
class Trigger:
    kind: str  # "note" or "cc"
    channel: int
    number: int

    @classmethod
    def of(cls, event: MidiEvent) -> Optional["Trigger"]:
        if event.kind in ("note_on", "note_off"):
            return cls("note", event.channel, event.number)
        if event.kind == "cc":
            return cls("cc", event.channel, event.number)
        return None

    def describe(self) -> str:
        if self.kind == "note":
            return f"note {self.number} ({note_name(self.number)}, ch {self.channel + 1})"
        return f"CC {self.number} (ch {self.channel + 1})"

    def to_list(self) -> list:
        return [self.kind, self.channel, self.number]


@dataclass(frozen=True)
class LearnResult:
    action: str
    trigger: Trigger
    conflict: Optional[str] = None

    def message(self) -> str:
        text = f"{ACTIONS[self.action]} ← {self.trigger.describe()}"
        return f"{text}. {self.conflict}" if self.conflict else text


class MidiMap:
    def __init__(self, pad_note: Optional[Callable[[int, int], Optional[int]]] = None) -> None:
        self.bindings: dict[str, Trigger] = {}
        self.learning: Optional[str] = None
        self.pad_note = pad_note  # (note, channel) -> pad index or None, to report clashes with the pads

    def start_learning(self, action: str) -> None:
        if action not in ACTIONS:
            raise KeyError(action)
        self.learning = action

    def learn(self, event: MidiEvent) -> Optional[LearnResult]:
        """While learning: bind the event's note or CC to the action (note-offs and clocks are skipped)."""
        if self.learning is None or event.kind not in ("note_on", "cc"):
            return None
        action = self.learning
        if action in CONTINUOUS_ACTIONS and event.kind != "cc":
            return LearnResult(action, Trigger.of(event),
                               f"{ACTIONS[action]} needs a knob or fader (a CC), not a note; move one.")
        trigger = Trigger.of(event)
        conflicts = [f"It was bound to {ACTIONS[other]}; that binding is removed."
                     for other, bound in self.bindings.items() if bound == trigger and other != action]
        self.bindings = {a: t for a, t in self.bindings.items() if t != trigger}
        if trigger.kind == "note" and self.pad_note is not None:
            pad = self.pad_note(trigger.number, trigger.channel)
            if pad is not None:
                conflicts.append(f"That note also plays pad {pad + 1}; it now fires {ACTIONS[action]} instead.")
        self.bindings[action] = trigger
        self.learning = None
        return LearnResult(action, trigger, " ".join(conflicts) or None)

    def clear(self, action: Optional[str] = None) -> None:
        """Forget one action's binding, or all of them."""
        if action is None:
            self.bindings.clear()
        else:
            self.bindings.pop(action, None)

    def action_for(self, event: MidiEvent) -> Optional[tuple[str, Optional[int]]]:
        """(action, value) for an event a binding matches: value is the CC value for continuous actions."""
        trigger = Trigger.of(event)
        if trigger is None:
            return None
        for action, bound in self.bindings.items():
            if bound != trigger:
                continue
            if action in CONTINUOUS_ACTIONS:
                return (action, event.value) if event.kind == "cc" else None
            if event.kind == "note_on" or (event.kind == "cc" and event.value > 0):
                return action, None
            return None
        return None

    def to_json(self) -> str:
        return json.dumps({a: t.to_list() for a, t in self.bindings.items()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, pad_note=None) -> "MidiMap":
        """The bindings stored by `to_json`; unknown actions and malformed entries are skipped."""
        mapping = cls(pad_note)
        try:
            data = json.loads(text or "{}")
        except ValueError:
            return mapping
        if not isinstance(data, dict):
            return mapping
        for action, value in data.items():
            if action in ACTIONS and isinstance(value, list) and len(value) == 3 and value[0] in ("note", "cc") \
                    and all(isinstance(v, int) for v in value[1:]):
                mapping.bindings[action] = Trigger(value[0], value[1] & 0x0F, value[2] & 0x7F)
        return mapping
