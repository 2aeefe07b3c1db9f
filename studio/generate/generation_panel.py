"""The generation panel: mode, prompt, settings, seed lock, model picker and presets.

It only builds requests: `build_spec()` turns the fields into a `jobs.JobSpec` (or raises
InputError naming the bad field), and `generate_requested` hands it to the main window.
"""

from __future__ import annotations

from typing import Any, Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QTabBar, QVBoxLayout, QWidget

from core.errors import InputError
from core.generation.defaults import SOUND, SPEECH
from core.generation.requests import MAX_CANDIDATES, MAX_GUIDANCE, MAX_SECONDS, MAX_STEPS, GenerationRequest
from studio.generate.generate_bar import GenerateBar
from studio.generate.mode_fields import PLACEHOLDERS, ModeFields, load_fields, save_fields
from studio.generate.modes import Mode, available_modes, speech_seconds, work_for
from studio.generate.panel_presets import PresetActions
from studio.generate.panel_widgets import ElidedComboBox, LimitedDoubleSpin, LimitedSpin, SeedField, licence_text
from studio.jobs.job_queue import JobSpec
from studio.models.choices import ModelChoice, model_choices
from studio.shell.file_dialogs import open_file
from studio.shell.labels import WrappingLabel
from studio.shell.settings import StudioSettings


class GenerationPanel(PresetActions, QWidget):
    generate_requested = Signal(object)  # JobSpec
    manage_models_requested = Signal()
    use_selected_requested = Signal()  # Continue: the window fills the source with the selected clip
    message = Signal(str)  # a one-line problem to show in the status bar

    def __init__(self, settings: StudioSettings, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("generationPanel")
        self.settings = settings
        self.modes: list[Mode] = available_modes()
        self._choices: list[ModelChoice] = []
        self.extra_inputs: dict[str, list] = {}  # mode -> callables returning more job inputs (or InputError)

        self.mode_tabs = QTabBar()
        self.mode_tabs.setObjectName("modeTabs")
        for mode in self.modes:
            self.mode_tabs.addTab(mode.label)

        self.preset_combo = ElidedComboBox()
        self.preset_combo.setObjectName("presetCombo")
        self.preset_combo.setToolTip("Built-in starting points, then your own presets")
        self.save_preset_button = QPushButton("Save…")
        self.delete_preset_button = QPushButton("Delete")
        preset_row = QHBoxLayout()
        preset_row.addWidget(self.preset_combo, 1)
        preset_row.addWidget(self.save_preset_button)
        preset_row.addWidget(self.delete_preset_button)

        self.prompt_edit = QLineEdit()
        self.prompt_edit.setObjectName("promptEdit")
        self.prompt_edit.setPlaceholderText("e.g. metal door slam in a large hall")
        self.transcription_edit = QLineEdit()
        self.transcription_edit.setObjectName("transcriptionEdit")
        self.transcription_edit.setPlaceholderText("the words to speak")
        self.source_edit = QLineEdit()
        self.source_edit.setObjectName("sourceEdit")
        self.source_edit.setPlaceholderText("audio file to continue (WAV, FLAC, OGG)")
        self.source_button = QPushButton("Browse…")
        self.use_selected_button = QPushButton("Use selected")
        self.use_selected_button.setToolTip("Continue the take or library item selected in the window")
        source_row = QVBoxLayout()  # the file name gets the column's width; its buttons go below it
        source_buttons = QHBoxLayout()
        source_buttons.addWidget(self.source_button)
        source_buttons.addWidget(self.use_selected_button)
        source_buttons.addStretch(1)
        source_row.addWidget(self.source_edit)
        source_row.addLayout(source_buttons)
        self.negative_edit = QLineEdit()
        self.negative_edit.setObjectName("negativeEdit")
        self.negative_edit.setPlaceholderText("what to steer away from, e.g. low quality, music")

        self.seconds_spin = LimitedDoubleSpin("Duration")
        self.seconds_spin.setObjectName("secondsSpin")
        self.seconds_spin.setRange(0.5, MAX_SECONDS)
        self.seconds_spin.setSingleStep(0.5)
        self.seconds_spin.setSuffix(" s")
        self.seconds_spin.setValue(SOUND.seconds)
        self.candidates_spin = LimitedSpin("Candidates")
        self.candidates_spin.setObjectName("candidatesSpin")
        self.candidates_spin.setRange(1, MAX_CANDIDATES)
        self.candidates_spin.setValue(4)
        self.seed_field = SeedField()
        self.seed_lock = QCheckBox("Lock")
        self.seed_lock.setObjectName("seedLock")
        self.seed_lock.setToolTip("Locked: reuse this seed. Unlocked: a new random seed each time.")
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_field, 1)
        seed_row.addWidget(self.seed_lock)
        self.steps_spin = LimitedSpin("Steps")
        self.steps_spin.setObjectName("stepsSpin")
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setValue(SOUND.steps)
        self.guidance_spin = LimitedDoubleSpin("Guidance")
        self.guidance_spin.setObjectName("guidanceSpin")
        self.guidance_spin.setRange(0.0, MAX_GUIDANCE)
        self.guidance_spin.setSingleStep(0.5)
        self.guidance_spin.setValue(SOUND.guidance)

        self.model_combo = ElidedComboBox()
        self.model_combo.setObjectName("modelCombo")
        self.manage_button = QPushButton("Models…")
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.manage_button)
        self.model_note = WrappingLabel()  # a long model folder wraps: the column never scrolls sideways
        self.model_note.setObjectName("modelNote")
        self.model_hint = WrappingLabel()  # the model a chosen preset was made for, when it is not the picked one
        self.model_hint.setObjectName("presetModelHint")
        self.model_hint.setVisible(False)

        self.generate_bar = GenerateBar()  # Generate, and why it is off when the model is not installed
        self.generate_button = self.generate_bar.button

        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow: labels above the fields
        self.form.addRow("Preset", preset_row)
        self.form.addRow("Prompt", self.prompt_edit)
        self.form.addRow("Words", self.transcription_edit)
        self.form.addRow("Continue", source_row)
        self.form.addRow("Negative", self.negative_edit)
        self.form.addRow("Duration", self.seconds_spin)
        self.form.addRow("Candidates", self.candidates_spin)
        self.form.addRow("Seed", seed_row)
        self.form.addRow("Steps", self.steps_spin)
        self.form.addRow("Guidance", self.guidance_spin)
        self.form.addRow("Model", model_row)
        layout = QVBoxLayout(self)
        layout.addWidget(self.mode_tabs)
        layout.addLayout(self.form)
        layout.addWidget(self.model_note)
        layout.addWidget(self.model_hint)
        layout.addWidget(self.generate_bar)
        layout.addStretch(1)

        self.mode_tabs.currentChanged.connect(self._on_mode_changed)
        self.preset_combo.activated.connect(self._on_preset_chosen)
        self.save_preset_button.clicked.connect(self._save_preset_dialog)
        self.delete_preset_button.clicked.connect(self._delete_preset)
        self.model_combo.currentIndexChanged.connect(self._on_model_changed)
        self.manage_button.clicked.connect(self.manage_models_requested)
        self.generate_bar.install_button.clicked.connect(self.manage_models_requested)
        self.source_button.clicked.connect(self._browse_source)
        self.use_selected_button.clicked.connect(self.use_selected_requested)
        self.generate_button.clicked.connect(self.request_generate)
        self.prompt_edit.returnPressed.connect(self.request_generate)
        for spin in (self.seconds_spin, self.candidates_spin, self.steps_spin, self.guidance_spin):
            spin.limit_hit.connect(self.message)

        self._fields: dict[str, ModeFields] = {m.name: load_fields(self.settings, m.name) for m in self.modes}
        self._shown_mode: Optional[str] = None  # whose fields the widgets hold
        self._picked_models: dict[str, str] = {}  # this session's pick per mode, installed or not
        last = self.settings.last_mode
        self.set_mode(last if any(m.name == last for m in self.modes) else "sound")
        self._on_mode_changed(self.mode_tabs.currentIndex())

    # ---- mode ----------------------------------------------------------------------------------------
    @property
    def mode(self) -> Mode:
        return self.modes[max(0, self.mode_tabs.currentIndex())]

    def set_mode(self, name: str) -> None:
        for i, mode in enumerate(self.modes):
            if mode.name == name:
                self.mode_tabs.setCurrentIndex(i)
                return
        raise InputError(f"mode {name!r} is not available in this build")

    def _on_mode_changed(self, _index: int) -> None:
        mode = self.mode
        if self._shown_mode is not None and self._shown_mode != mode.name:
            self._fields[self._shown_mode] = self.current_fields()  # before the new mode's limits touch them
        self.settings.last_mode = mode.name
        self._set_row_visible(self.transcription_edit, mode.needs_transcription)
        self._set_row_visible(self.source_edit, mode.needs_source_audio)
        # Speech may take its duration from the words: the spin's lowest value reads "auto".
        self.seconds_spin.setMinimum(0.0 if mode.needs_transcription else 0.5)
        self.seconds_spin.setSpecialValueText("auto (from the words)" if mode.needs_transcription else "")
        self.prompt_edit.setPlaceholderText(PLACEHOLDERS.get(mode.name, ""))
        self._show_fields(self._fields[mode.name])
        self._shown_mode = mode.name
        self.model_hint.setVisible(False)
        self.reload_models()
        self.reload_presets()

    # ---- per-mode fields ------------------------------------------------------------------------------
    def current_fields(self) -> ModeFields:
        """The fields as shown now (for the mode whose fields the widgets hold)."""
        previous = self._fields.get(self._shown_mode or self.mode.name, ModeFields())
        return ModeFields(prompt=self.prompt_edit.text(), negative=self.negative_edit.text(),
                          words=self.transcription_edit.text(), source=self.source_edit.text(),
                          seconds=round(self.seconds_spin.value(), 3), steps=self.steps_spin.value(),
                          guidance=round(self.guidance_spin.value(), 3), candidates=self.candidates_spin.value(),
                          preset_prompt=previous.preset_prompt)

    def fields_of(self, mode: str) -> ModeFields:
        return self.current_fields() if mode == self._shown_mode else self._fields[mode]

    def _show_fields(self, values: ModeFields) -> None:
        self.prompt_edit.setText(values.prompt)
        self.negative_edit.setText(values.negative)
        self.transcription_edit.setText(values.words)
        self.source_edit.setText(values.source)
        for edit in (self.prompt_edit, self.negative_edit, self.transcription_edit, self.source_edit):
            edit.setCursorPosition(0)  # a long text shows its beginning, not its last words
        self.seconds_spin.setValue(max(self.seconds_spin.minimum(), values.seconds))
        self.steps_spin.setValue(values.steps)
        self.guidance_spin.setValue(values.guidance)
        self.candidates_spin.setValue(values.candidates)

    def save_fields(self) -> None:
        """Persist every mode's fields (the window calls this on close and on Generate)."""
        for mode in self.modes:
            save_fields(self.settings, mode.name, self.fields_of(mode.name))

    def _set_row_visible(self, field: QWidget, visible: bool) -> None:
        self.form.setRowVisible(self._row_of(field), visible)

    def _row_of(self, field: QWidget) -> int:
        for row in range(self.form.rowCount()):
            item = self.form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if item is None:
                continue
            if item.widget() is field or (item.layout() is not None and item.layout().indexOf(field) >= 0):
                return row
        raise LookupError(field.objectName())

    # ---- models --------------------------------------------------------------------------------------
    def reload_models(self) -> None:
        """Fill the picker: installed and local models that suit the mode first, then downloadable ones."""
        mode = self.mode
        # The model last used in this mode, else the one picked in the previous mode (if it suits this one).
        keep = (self._picked_models.get(mode.name) or self.settings.model_for_mode(mode.name)
                or self.model_combo.currentData())
        self._choices = [c for c in model_choices(self.settings.local_models) if c.suits(mode.model_task)]
        self._choices.sort(key=lambda c: (not c.installed, c.spec != mode.default_model, c.spec))
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for choice in self._choices:
            self.model_combo.addItem(choice.label, choice.spec)
        index = self.model_combo.findData(keep) if keep else -1
        self.model_combo.setCurrentIndex(index if index >= 0 else 0)
        self.model_combo.blockSignals(False)
        self._on_model_changed(self.model_combo.currentIndex())

    def select_model_everywhere(self, spec: str) -> list[str]:
        """A model the user just added: pick it in every mode it serves; return those modes' names."""
        choice = next((c for c in model_choices(self.settings.local_models) if c.spec == spec), None)
        if choice is None or not choice.installed:
            return []
        served = [m.name for m in self.modes if choice.suits(m.model_task)]
        for name in served:
            self._picked_models[name] = spec
            self.settings.set_model_for_mode(name, spec)
        self.reload_models()
        return served

    def installed_picks(self) -> dict[str, str]:
        """Mode name -> the installed model picked for it (shown now, this session, or remembered)."""
        installed = {c.spec for c in model_choices(self.settings.local_models) if c.installed}
        picks = {m.name: self._picked_models.get(m.name) or self.settings.model_for_mode(m.name) for m in self.modes}
        return {mode: spec for mode, spec in picks.items() if spec in installed}

    def selected_choice(self) -> Optional[ModelChoice]:
        index = self.model_combo.currentIndex()
        return self._choices[index] if 0 <= index < len(self._choices) else None

    def set_model(self, spec: str) -> None:
        index = self.model_combo.findData(spec)
        if index < 0:  # e.g. a library item from a folder that is no longer listed
            self._choices.append(ModelChoice.for_spec(spec))
            self.model_combo.addItem(self._choices[-1].label, spec)
            index = self.model_combo.count() - 1
        self.model_combo.setCurrentIndex(index)

    def _on_model_changed(self, _index: int) -> None:
        choice = self.selected_choice()
        self.generate_bar.show_model(choice)
        if choice is None:
            self.model_note.setText("No model for this mode. Open Models… to download one or add a folder.")
            return
        self._picked_models[self.mode.name] = choice.spec
        if choice.installed:  # a model that cannot run is never remembered across restarts
            self.settings.set_model_for_mode(self.mode.name, choice.spec)
            self.model_note.setText(licence_text(choice.licence))
        else:
            self.model_note.setText(f"{choice.spec} is not installed ({choice.size_text}). Open Models… to download "
                                    f"it. {licence_text(choice.licence)}")
        self.model_note.setToolTip(self.model_note.text())

    # ---- seed ----------------------------------------------------------------------------------------
    def seed_for_request(self) -> Optional[int]:
        if not self.seed_lock.isChecked():
            return None
        if self.seed_field.value() is None:
            raise InputError("seed is locked but empty: type a seed or untick Lock for a random one.")
        return self.seed_field.value()

    def show_seed(self, seed: int) -> None:
        """Show the seed a job used (so the user can lock it); a locked seed is left alone."""
        if not self.seed_lock.isChecked():
            self.seed_field.setValue(seed)

    # ---- requests ------------------------------------------------------------------------------------
    def build_request(self, seed: Optional[int] = None, use_panel_seed: bool = True) -> GenerationRequest:
        mode = self.mode
        transcription = self.transcription_edit.text().strip() if mode.needs_transcription else None
        if mode.needs_transcription and not transcription:
            raise InputError("Words to speak are empty: type what the voice should say.")
        request = GenerationRequest(
            prompt=self.prompt_edit.text().strip(), negative_prompt=self.negative_edit.text().strip(),
            seconds=self._seconds(transcription), steps=self.steps_spin.value(),
            guidance=round(self.guidance_spin.value(), 3),
            seed=self.seed_for_request() if use_panel_seed else seed,
            candidates=self.candidates_spin.value(), transcription=transcription,
            allow_empty_prompt=mode.needs_source_audio)
        return request.validated() if request.seed is not None else _check(request)

    def _auto_seconds(self) -> bool:
        return self.mode.needs_transcription and self.seconds_spin.value() == 0.0

    def _seconds(self, transcription: Optional[str] = None) -> float:
        """The duration field; Speech's "auto" becomes the length core.speech expects for the words."""
        if not self._auto_seconds():
            return round(self.seconds_spin.value(), 3)
        words = transcription if transcription is not None else self.transcription_edit.text().strip()
        return speech_seconds(words) if words else SPEECH.seconds

    def build_spec(self) -> JobSpec:
        mode = self.mode
        choice = self.selected_choice()
        if choice is None:
            raise InputError("No model chosen: open Models… to download one or add a local model folder.")
        request = self.build_request()  # the fields' own problems first
        if not choice.installed:
            raise InputError(f"{choice.spec} is not installed: open Models… to download it or pick another model.")
        extra: dict[str, Any] = {}
        if mode.needs_source_audio:
            source = self.source_edit.text().strip()
            if not source:
                raise InputError("No audio to continue: choose a file with Browse….")
            extra["source"] = source
        for provide in self.extra_inputs.get(mode.name, ()):
            extra.update(provide(request))
        return JobSpec(mode=mode.name, model=choice.spec, request=request, work=work_for(mode), extra=extra)

    def request_generate(self) -> None:
        try:
            spec = self.build_spec()
        except InputError as exc:
            self.message.emit(str(exc))
            return
        self.generate_requested.emit(spec)

    def apply_settings(self, mode: str, model: str, settings: dict[str, Any]) -> None:
        """Load a past generation's settings (library "Re-open settings"), seed locked to reproduce it."""
        try:
            self.set_mode(mode)
        except InputError:
            self.message.emit(f"The {mode} mode is not available in this build; settings loaded into Sound.")
            self.set_mode("sound")
        self.set_model(model)
        self.prompt_edit.setText(settings.get("prompt", ""))
        self.negative_edit.setText(settings.get("negative_prompt") or "")
        for spin, key in ((self.seconds_spin, "seconds"), (self.steps_spin, "steps"),
                          (self.guidance_spin, "guidance")):
            if isinstance(settings.get(key), (int, float)):
                spin.setValue(settings[key])
        words = settings.get("text") or settings.get("transcription")  # core.speech keeps the words as typed
        if words:
            self.transcription_edit.setText(words)
        if settings.get("source"):
            self.source_edit.setText(settings["source"])
        if isinstance(settings.get("seed"), int):
            self.seed_field.setValue(settings["seed"])
            self.seed_lock.setChecked(True)

    def _browse_source(self) -> None:
        path = open_file(self, "continue", "Audio to continue", "Audio (*.wav *.flac *.ogg *.oga *.aiff *.aif *.mp3)")
        if path:
            self.source_edit.setText(path)


def _check(request: GenerationRequest) -> GenerationRequest:
    """Validate fields now but keep seed=None, so the engine draws a fresh random seed per job."""
    request.validated()
    return request

