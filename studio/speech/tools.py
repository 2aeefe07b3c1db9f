"""Speech mode's podcaster tools in the window: a voice from a recording, and the script editor.

`attach(window)` adds them to the generation panel (shown in Speech mode only) and wires them to the
window's job queue, cards, waveform and player; everything they compute comes from core.speech.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Optional

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFrame, QPushButton, QScrollArea

from core.errors import InputError, LoaError
from core.fileio import write_text_atomic
from core.speech import DEFAULT_VOICE, SpeechRequest
from core.speech.tts import check_reference_fits
from studio.shell.clip_entry import ClipEntry
from studio.shell.window_layout import BottomDockGuest
from studio.speech.reference_box import COMPACT, ReferenceBox
from studio.speech.script_box import ScriptBox
from studio.speech.script_session import LineState, ScriptSession

SCRIPT_DOCK_HEIGHT = 190
SCRIPT_DRAFT_FILE = "speech-script-draft.json"  # beside the settings file
REFERENCE_FILE = "speech-reference.json"  # the reference voice file and its words, beside the settings file

__all__ = ["ReferenceBox", "ScriptBox", "ScriptSession", "SpeechTools", "attach"]


class SpeechTools(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.panel = panel = window.generation_panel
        self.reference = ReferenceBox()
        self.session = ScriptSession(window.jobs, window.submit, self)
        self.script = ScriptBox(self.session, self.script_settings, self.reference.reference_voice,
                                draft_path=window.settings.path.parent / SCRIPT_DRAFT_FILE)
        self._entries: dict[int, tuple[object, ClipEntry]] = {}  # id(result) -> (result, its entry)

        # The reference rows follow the words in the panel's form (Generate speaks in that voice too);
        # the script editor is a wide dock at the bottom, beside the recording dock where there is one.
        at = panel._row_of(panel.transcription_edit) + 1
        self.script_button = QPushButton("Script editor…")
        self.script_button.setToolTip("Write a whole script, one line per utterance, and render it line by line")
        self._rows = [*self.reference.rows(), ("Script", self.script_button)]
        for offset, (label, field) in enumerate(self._rows):
            panel.form.insertRow(at + offset, label, field)
        self.dock = QDockWidget("Script", window)
        self.dock.setObjectName("scriptDock")
        scroll = QScrollArea()  # the dock imposes no minimum size on the window: it scrolls when squeezed
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMinimumSize(120, 40)
        scroll.setWidget(self.script)
        self.dock.setWidget(scroll)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        recording_dock = getattr(getattr(window, "recording", None), "dock", None)
        if recording_dock is not None:
            window.tabifyDockWidget(recording_dock, self.dock)
        # A strip the first time, so the cards keep most of the height; leaving Speech gives the height back.
        self.dock_sizes = BottomDockGuest(window, self.dock, SCRIPT_DOCK_HEIGHT)
        self.script_button.clicked.connect(self.show_script_editor)
        panel.extra_inputs.setdefault("speech", []).append(self._reference_input)
        panel.mode_tabs.currentChanged.connect(self._on_mode_changed)

        self.reference.use_selected_requested.connect(self.use_selected_as_reference)
        self.script.message.connect(window.show_error)
        self.script.info.connect(window.show_message)
        self.script.line_selected.connect(lambda state: window.show_entry(self.entry_for(state)))
        self.script.play_requested.connect(self._play_line)
        self.session.all_done.connect(self.show_script_takes)
        self._record_armed = False  # the next recorded take becomes the reference
        self.record_button: Optional[QPushButton] = None
        recording = getattr(window, "recording", None)  # studio.recording, where it is attached
        if recording is not None:
            self.record_button = QPushButton("Record…")
            self.record_button.setStyleSheet(COMPACT)
            self.record_button.setToolTip("Record the voice now (stop when done); the take becomes the reference")
            self.reference.buttons_row.insertWidget(1, self.record_button)
            self.record_button.clicked.connect(self._record_reference)
            recording.controller.take_finished.connect(self._on_recorded)
            recording.controller.state_changed.connect(self._on_record_state)
        window.library_panel.reopen_requested.connect(self._on_reopen)
        self._reference_file = window.settings.path.parent / REFERENCE_FILE
        self._restore_reference()
        self.reference.changed.connect(self._save_reference)
        self._on_mode_changed()

    def _on_mode_changed(self, _index: int = 0) -> None:
        """The tools belong to Speech mode: its rows show there only; the script dock comes up on entering it."""
        speech = self.panel.mode.name == "speech"
        for _label, field in self._rows:
            self.panel.form.setRowVisible(field, speech)
        if speech:
            self.show_script_editor()
        else:
            self.dock.hide()

    def show_script_editor(self) -> None:
        self.dock_sizes.show()

    # ---- the reference -------------------------------------------------------------------------------
    def _reference_input(self, request) -> dict:
        """Generate in Speech mode: add the reference voice, refusing a bad one before any job."""
        voice = self.reference.reference_voice()
        if voice is None:
            return {}
        check_reference_fits(SpeechRequest(text=request.transcription or "", seconds=request.seconds), voice)
        return {"reference": voice}

    def _on_reopen(self, item) -> None:
        """Re-open settings of a take spoken after a reference: say which voice it needs if another is chosen."""
        source = item.settings.get("reference") if item.mode == "speech" else None
        if source and self.reference.source != source:
            self.window.show_message(f"Loaded the settings of “{item.title}”. It was spoken in the voice of {source} "
                                     f"(“{item.settings.get('reference_text', '')}”): choose it under “Voice from”.")

    def _save_reference(self) -> None:
        """Remember a reference that is a file (a picked file or a library item's) and what it says."""
        box = self.reference
        data = {"path": str(box.path), "source": box.source, "text": box.text_edit.text()} if box.path else {}
        try:
            write_text_atomic(self._reference_file, json.dumps(data))
        except (OSError, InputError):
            pass  # remembering is a convenience; the choice itself stands

    def _restore_reference(self) -> None:
        try:
            data = json.loads(self._reference_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and isinstance(data.get("path"), str):
            # A file gone since is shown with its message, so the user knows why the voice changed.
            self.reference.set_reference_file(data["path"], data.get("source") or None, data.get("text") or None)

    def reroll_inputs(self, entry: ClipEntry, request) -> tuple[object, dict]:
        """More like this on a speech take: speak the words as typed (a reference take's transcription also
        holds the reference's words) in the same reference voice, which must still be the one chosen."""
        words = entry.settings.get("text")
        if isinstance(words, str) and words.strip():
            request = replace(request, transcription=words)
        source = entry.settings.get("reference")
        if not source:
            return request, {}
        voice = self.reference.reference_voice()
        if voice is None or voice.source != source or voice.text != entry.settings.get("reference_text"):
            raise InputError(f"it was spoken in the voice of {source}; choose that recording under “Voice from” "
                             "(with what it says) and try again.")
        return request, {"reference": voice}

    def set_reference_clip(self, clip, source: str = "recording", words: Optional[str] = None) -> bool:
        """Use a clip (e.g. a fresh recording) as the reference voice, showing it in Speech mode; see
        ReferenceBox.set_reference_clip."""
        if self.panel.mode.name != "speech":
            self.panel.set_mode("speech")
        return self.reference.set_reference_clip(clip, source, words)

    def _record_reference(self) -> None:
        recording = self.window.recording
        if recording.controller.is_busy:
            recording.controller.stop()
            return
        recording.dock.show()
        self._record_armed = bool(recording.record())

    def _on_record_state(self, state: str) -> None:
        self.record_button.setText("Record…" if state == "idle" else "Stop")
        if state == "idle":  # the take (if any) arrives right after this; a failed start brings none
            QTimer.singleShot(0, self, self._disarm)

    def _disarm(self) -> None:
        self._record_armed = False

    def _on_recorded(self, take, _punch) -> None:
        if self._record_armed:
            self._record_armed = False
            self.set_reference_clip(take.clip, take.path.name)

    def use_selected_as_reference(self) -> None:
        entry = self.window.selected_entry()
        if entry is None:
            self.window.show_message("Select a take or a library item to use as the reference voice.")
            return
        words = entry.settings.get("text") if entry.mode == "speech" else None
        label = (words or entry.prompt or "selected take").strip()
        label = label if len(label) <= 40 else label[:39] + "…"
        path = None
        if entry.library_id is not None:
            try:
                path = self.window.library.get(entry.library_id).audio_path
            except LoaError:
                path = None
        self.reference.set_reference_clip(entry.clip, f"“{label}”", words, path=path)

    # ---- the script ----------------------------------------------------------------------------------
    def script_settings(self) -> tuple[SpeechRequest, str]:
        """The panel's Speech settings for every script line: the prompt is the default voice."""
        panel = self.panel
        choice = panel.selected_choice()
        if choice is None:
            raise InputError("No model chosen: open Models… to download one or add a local model folder.")
        settings = SpeechRequest(text="", voice=panel.prompt_edit.text().strip() or DEFAULT_VOICE,
                                 negative_prompt=panel.negative_edit.text().strip(), steps=panel.steps_spin.value(),
                                 guidance=round(panel.guidance_spin.value(), 3), seed=panel.seed_for_request(),
                                 candidates=panel.candidates_spin.value())
        return settings, choice.spec

    def entry_for(self, state: LineState) -> ClipEntry:
        """The line's take as one ClipEntry for as long as the take lasts (so Play/Stop and cards agree)."""
        live = {id(s.result) for s in self.session.states if s.result is not None}
        for key in [key for key in self._entries if key not in live]:  # re-rolled or edited away
            del self._entries[key]
        cached = self._entries.get(id(state.result))
        if cached is None or cached[0] is not state.result:
            cached = self._entries[id(state.result)] = (state.result,
                                                        ClipEntry.from_candidate(state.result, state.result.best,
                                                                                 "speech"))
        return cached[1]

    def _play_line(self, state: LineState) -> None:
        entry = self.entry_for(state)
        self.window.show_entry(entry)
        self.window.auditioner.play(entry)

    def joined_entry(self) -> ClipEntry:
        """The whole script as one take (what Export… writes as NAME.wav)."""
        result = self.session.result()
        first = result.lines[0][1]
        lines = [{"line": line.number, "text": line.text, "voice": line.voice, "seed": r.best.seed,
                  "start": round(start, 6)} for (line, r), start in zip(result.lines, result.offsets)]
        settings = {"text": " ".join(line.text for line, _ in result.lines), "script": self.script.name,
                    "lines": lines, "steps": first.best.settings.get("steps"),
                    "guidance": first.best.settings.get("guidance")}
        return ClipEntry(clip=result.joined, prompt=f"script: {self.script.name}", mode="speech",
                         model=first.model_id, licence=first.licence, seed=first.best.seed, settings=settings)

    def show_script_takes(self) -> None:
        """Every line has a take: show the whole script first, then each line, as cards."""
        try:
            joined = self.joined_entry()
        except InputError as exc:
            self.window.show_error(str(exc))
            return
        entries = [joined] + [self.entry_for(state) for state in self.session.states]
        if self.window.settings.store_all_generations:
            try:
                self.window._store(joined, kept=False)
                self.window.library_panel.library_changed()
            except (OSError, LoaError) as exc:
                self.window.show_error(f"Could not store the script in the library: {exc}")
        self.window.show_result_cards(entries)
        card = self.window.candidates.card_for(joined)
        if card is not None:  # the whole script re-rolls line by line, in the script editor
            card.more_button.setEnabled(False)
            card.more_button.setToolTip("Re-roll single lines in the script editor")
        self.window.show_message(f"Script “{self.script.name}”: {len(entries) - 1} lines, "
                                 f"{joined.clip.seconds:.1f} s. Export… in the script box writes every file.")


def attach(window) -> Optional[SpeechTools]:
    """Add the speech tools to the window when it offers Speech mode."""
    if not any(mode.name == "speech" for mode in window.generation_panel.modes):
        return None
    return SpeechTools(window)
