"""The generation panel's presets: built-in starting points and the user's own, applied as sound settings only.

A mixin of GenerationPanel (it uses the panel's fields, model picker and `message` signal).
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtWidgets import QInputDialog

from core.errors import InputError
from core.generation.presets import Preset, delete_user_preset, presets_for, save_user_preset


class PresetActions:
    # ---- presets -------------------------------------------------------------------------------------
    def reload_presets(self, select: Optional[str] = None) -> None:
        try:
            self._presets = presets_for(self.mode.name)
        except InputError as exc:
            self._presets = []
            self.message.emit(str(exc))
        self.preset_combo.blockSignals(True)
        self.preset_combo.clear()
        self.preset_combo.addItem("— none —")
        for preset in self._presets:
            self.preset_combo.addItem(preset.name if preset.builtin else f"{preset.name} (mine)")
        mine = [i for i, p in enumerate(self._presets) if not p.builtin and p.name == select]
        if mine:  # the user's preset just saved: show it chosen
            self.preset_combo.setCurrentIndex(1 + mine[0])
        self.preset_combo.blockSignals(False)

    def _on_preset_chosen(self, index: int) -> None:
        if index >= 1:
            self.apply_preset(self._presets[index - 1])

    def apply_preset(self, preset: Preset) -> None:
        """Sound settings only: the words are never touched, a typed prompt is kept (a preset's example prompt
        fills an empty prompt, or replaces the one the previous preset filled in), and a model the preset
        prefers is picked only if it is installed; otherwise it is shown as a hint."""
        fields = self._fields[self.mode.name]
        typed = self.prompt_edit.text().strip()
        if preset.prompt and (not typed or typed == fields.preset_prompt):
            self.prompt_edit.setText(preset.prompt)
            fields.preset_prompt = preset.prompt
        self.negative_edit.setText(preset.negative_prompt)
        if preset.seconds is not None or self.mode.needs_transcription:
            self.seconds_spin.setValue(self.seconds_spin.minimum() if preset.seconds is None else preset.seconds)
        self.steps_spin.setValue(preset.steps)
        self.guidance_spin.setValue(preset.guidance)
        self.candidates_spin.setValue(preset.candidates)
        self._prefer_model(preset)

    def _prefer_model(self, preset: Preset) -> None:
        self.model_hint.setVisible(False)
        if not preset.model or preset.model == self.model_combo.currentData():
            return
        index = self.model_combo.findData(preset.model)
        if index >= 0 and self._choices[index].installed:
            self.model_combo.setCurrentIndex(index)
            return
        self.model_hint.setText(f"“{preset.name}” was made for {preset.model}, which is not installed; "
                                "your model is kept. Models… downloads it.")
        self.model_hint.setVisible(True)

    def current_preset(self, name: str) -> Preset:
        """The sound settings as a preset: never the words, and Speech presets leave the length to the words."""
        return Preset(name=name, mode=self.mode.name, prompt=self.prompt_edit.text().strip(),
                      negative_prompt=self.negative_edit.text().strip(),
                      seconds=None if self.mode.needs_transcription else self.seconds_spin.value(),
                      steps=self.steps_spin.value(), guidance=self.guidance_spin.value(),
                      candidates=self.candidates_spin.value(), model=self.model_combo.currentData())

    def save_preset(self, name: str) -> Preset:
        preset = save_user_preset(self.current_preset(name.strip()))
        self.reload_presets(select=preset.name)
        return preset

    def _save_preset_dialog(self) -> None:
        name, ok = QInputDialog.getText(self, "Save preset", "Preset name:")
        if ok and name.strip():
            try:
                self.save_preset(name)
            except InputError as exc:
                self.message.emit(str(exc))

    def _delete_preset(self) -> None:
        index = self.preset_combo.currentIndex()
        if index < 1:
            return
        preset = self._presets[index - 1]
        if preset.builtin:
            self.message.emit(f"{preset.name!r} is built in and cannot be deleted.")
            return
        delete_user_preset(preset.mode, preset.name)
        self.reload_presets()
