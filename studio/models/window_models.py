"""The main window's model and device actions: the model manager, the first-run banner, the compute and audio
devices. A mixin of MainWindow."""

from __future__ import annotations

from typing import Optional

from studio.models.choices import has_usable_model
from studio.models.model_manager import ModelManagerDialog


def apply_precision_default(precision: str) -> None:
    """The window's precision as the default of every engine it creates (core.generation.precision)."""
    import os

    from core.devices.compute import PRECISION_ENV

    os.environ[PRECISION_ENV] = precision


def apply_low_vram_default(on: bool) -> None:
    """The window's low-VRAM choice as the default of every engine it creates (core.generation.low_vram)."""
    import os

    from core.generation.low_vram import ENV

    if on:
        os.environ[ENV] = "1"
    else:
        os.environ.pop(ENV, None)


class ModelActions:
    def update_first_run_banner(self) -> None:
        self.first_run_banner.setVisible(not has_usable_model(self.settings.local_models))

    def open_model_manager(self) -> ModelManagerDialog:
        if self.model_manager is None:
            self.model_manager = ModelManagerDialog(self.settings, self, engines=self.jobs.engines)
            self.jobs.job_done.connect(lambda _job: self.model_manager.show_resident())
            self.model_manager.models_changed.connect(self._on_models_changed)
            self.model_manager.folder_added.connect(self._on_model_folder_added)
        self.model_manager.refresh()
        self.model_manager.show()
        self.model_manager.raise_()
        return self.model_manager

    def _on_models_changed(self) -> None:
        self.generation_panel.reload_models()
        self.update_first_run_banner()

    def _on_model_folder_added(self, folder: str) -> None:
        modes = self.generation_panel.select_model_everywhere(folder)
        self.error_banner.setVisible(False)  # the "not installed" error no longer applies
        if modes:
            self.show_message(f"Using {folder} for {', '.join(modes)}.")

    def set_compute_device(self, device: str) -> None:
        self.settings.device = device
        self.jobs.engines.set_device(device)
        from core.devices.compute import pick_device

        self.job_list.times.device = pick_device(device).type  # estimates are per device
        self.show_message(f"Compute device: {device} (applies to the next job).")

    def set_compute_precision(self, precision: str) -> None:
        """Precision per stage (Compute menu); loaded models are dropped and load again at the next job."""
        self.settings.precision = precision
        apply_precision_default(precision)
        self.jobs.engines.forget_all()
        self.show_message(f"Precision: {precision} (applies to the next job; the model loads again).")

    def set_low_vram(self, on: bool) -> None:
        """Low-VRAM mode (Compute menu); loaded models are dropped and load again at the next job."""
        from core.devices.compute import pick_device
        from core.generation.low_vram import decide

        self.settings.low_vram = on
        apply_low_vram_default(on)
        self.jobs.engines.forget_all()
        note = decide(on, pick_device(self.settings.device)).note
        self.show_message(f"Low-VRAM mode: {'on' if on else 'off'} (applies to the next job)."
                          + (f" Note: {note}" if note else ""))

    def set_audio_device(self, device: Optional[str]) -> None:
        if self.auditioner.set_device(device):
            self.settings.audio_device = device
