"""Generative edits from the editor's selection: regenerate (inpaint), continue from here, extend / close a loop,
transform. Each runs as a job in the window's queue (progress and cancel in the job list); the result comes back
as the next version of the clip in the edit session, so Undo takes it back like any edit.

Each edit is a core task (core.generation.tasks: Inpaint, Continue at the cursor, ExtendLoop / CloseLoop of the
selected range, Transform) bound to the clip and the selection; core splices the result back into the clip. The
edit carries the generation panel's settings (model, guidance, negative prompt, steps, seed lock), with the
dialog's prompt and any value the dialog changed on top. The window's job handler leaves these jobs to us.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import QObject

from core.audio.clip import Clip
from core.editing import Selection
from core.errors import InputError, LoaError
from core.generation import tasks
from core.generation.requests import GenerationSettings
from core.models.catalog import DEFAULT_MODEL_BY_TASK
from studio.editor.dialogs import generative_dialog
from studio.generate.mode_fields import default_fields
from studio.jobs.job_queue import Job, JobSpec

EDITOR_JOB = "editor_edit"  # JobSpec.extra key: the window's own job handler skips these
KNOBS = ("negative_prompt", "steps", "guidance", "scheduler", "seed")  # recorded with each edit


def task_for(op: str, clip: Clip, params: dict, extra: dict, settings: GenerationSettings):
    """The core task of an editor operation on `clip` (selection and cursor in `extra`, in frames and seconds)."""
    start, end = extra["start_seconds"], extra["end_seconds"]
    if op == "regenerate":
        return tasks.Inpaint(clip, start, end, settings)
    if op == "continue":
        return tasks.Continue(clip, params["seconds"], settings, at=extra["at"] / clip.sample_rate)
    if op == "extend_loop":
        return tasks.ExtendLoop(clip, params["bars"], params.get("bpm") or None, start=start, end=end,
                                settings=settings)
    if op == "close_loop":
        return tasks.CloseLoop(clip, start=start, end=end, settings=settings)
    if op == "transform":
        return tasks.Transform(clip, params["strength"], start, end, settings)
    raise KeyError(op)


# ---- the window side --------------------------------------------------------------------------------------
class GenerativeEdits(QObject):
    def __init__(self, editor, jobs, settings) -> None:
        super().__init__(editor)
        self.editor, self.jobs, self.settings = editor, jobs, settings
        self.pending: dict[int, dict] = {}  # job id -> what the result belongs to
        jobs.job_finished.connect(self._on_finished)

    @property
    def controller(self):
        return self.editor.controller

    def _panel(self):
        return getattr(self.editor.window, "generation_panel", None)

    def _panel_mode(self) -> Optional[str]:
        """The panel's mode when its model can edit audio (Sound, Music, Continue); None for Speech."""
        panel = self._panel()
        if panel is None:
            return None
        return None if panel.mode.model_task == "speech" else panel.mode.name

    def model(self) -> str:
        """The panel's model when it shows a sound or music mode with an installed model, else the Sound pick."""
        panel, mode = self._panel(), self._panel_mode()
        if mode is not None:
            choice = panel.selected_choice()
            if choice is not None and choice.installed:
                return choice.spec
        return self.settings.model_for_mode("sound") or DEFAULT_MODEL_BY_TASK["sound"]

    def panel_settings(self, params: dict) -> GenerationSettings:
        """The panel's generation settings (guidance, negative prompt, steps, seed lock) under the dialog's values.
        InputError when the panel's seed is locked but empty."""
        panel, mode = self._panel(), self._panel_mode()
        fields = default_fields("sound")
        seed = None
        if panel is not None:
            try:
                fields = panel.fields_of(mode or "sound")
            except KeyError:
                pass
            seed = panel.seed_for_request()  # the panel's seed policy: locked reuses it, else a fresh one
        knobs = GenerationSettings()
        return GenerationSettings(
            prompt=params.get("prompt", ""), negative_prompt=str(params.get("negative_prompt", fields.negative)).strip(),
            steps=int(params.get("steps", fields.steps)), guidance=float(params.get("guidance", fields.guidance)),
            seed=params.get("seed", seed), scheduler=params.get("scheduler", knobs.scheduler))

    # ---- menu entries (ask, then submit) -----------------------------------------------------------------
    def _dialog(self, title: str, **options):
        knobs = self._panel_defaults()
        return generative_dialog(title, self.editor.window, steps=knobs.steps, guidance=knobs.guidance,
                                 negative=knobs.negative_prompt, **options)

    def _panel_defaults(self) -> GenerationSettings:
        try:
            return self.panel_settings({})
        except InputError:  # a locked, empty seed is reported when the edit starts
            return self.panel_settings({"seed": None})

    def regenerate(self, params: Optional[dict] = None) -> Optional[Job]:
        return self._start("Regenerate selection", "regenerate", params, needs_selection=True,
                           dialog=lambda: self._dialog("Regenerate selection"))

    def continue_here(self, params: Optional[dict] = None) -> Optional[Job]:
        from core.generation.defaults import EDITOR_CONTINUE_SECONDS

        return self._start("Continue from here", "continue", params,
                           dialog=lambda: self._dialog("Continue from here", seconds=EDITOR_CONTINUE_SECONDS))

    def extend_loop(self, params: Optional[dict] = None) -> Optional[Job]:
        # The session tempo (MIDI clock, typed or tapped; studio.midi) is used instead of estimating one.
        session = getattr(self.editor.window, "session_bpm", lambda: None)()
        if params is not None and not params.get("bpm") and session:
            params = {**params, "bpm": session}
        return self._start("Extend loop", "extend_loop", params,
                           dialog=lambda: self._dialog("Extend loop", bars=True, bpm=session or 0.0))

    def close_loop(self, params: Optional[dict] = None) -> Optional[Job]:
        return self._start("Close loop", "close_loop", params, dialog=lambda: self._dialog("Close loop"))

    def transform(self, params: Optional[dict] = None) -> Optional[Job]:
        return self._start("Transform selection", "transform", params, needs_prompt=True,
                           dialog=lambda: self._dialog("Transform selection", strength=True,
                                                       prompt_hint="what it should become"))

    def _start(self, title: str, op: str, params: Optional[dict], dialog, needs_selection: bool = False,
               needs_prompt: bool = False) -> Optional[Job]:
        ctl = self.controller
        clip = ctl.require(title)
        if clip is None:
            return None
        sel = ctl.selection()
        if needs_selection and sel.is_empty:
            self.editor.window.show_message(f"{title}: select a range first (drag across the waveform).")
            return None
        if params is None:
            params = dialog().ask()
            if params is None:
                return None
        if needs_prompt and not params.get("prompt"):
            self.editor.window.show_error(f"{title}: type a prompt that says what it should become.")
            return None
        whole = sel.or_whole(clip)
        rate = clip.sample_rate
        extra = dict(params) | {EDITOR_JOB: True, "clip": clip, "start": whole.start, "end": whole.end,
                                "start_seconds": whole.start / rate, "end_seconds": whole.end / rate,
                                "at": sel.end if not sel.is_empty else sel.start, "title": title}
        try:
            settings = self.panel_settings(params)
            task = task_for(op, clip, params, extra, settings)
            tasks.check(task)  # refuse at once what the worker would refuse (too short, silent, too long a range)
            request = settings.request(max(0.1, (whole.end - whole.start) / rate))
        except LoaError as exc:
            self.editor.window.show_error(f"{title}: {exc}")
            return None
        spec = JobSpec(mode="edit", model=self.model(), request=request, task=task,
                       title=f"{title}: {params.get('prompt') or ctl.origin.prompt or 'clip'}", extra=extra)
        job = self.jobs.submit(spec)
        self.pending[job.id] = {"origin": ctl.origin, "session": ctl.session, "title": title, "params": params,
                                "selection": whole, "op": op, "clip_frames": clip.frames, "at": extra["at"]}
        self.editor.window.show_message(f"Queued “{spec.describe()}”; the result comes back as an undoable edit.")
        return job

    def _on_finished(self, job: Job, result) -> None:
        pending = self.pending.pop(job.id, None)
        if pending is None:
            return
        new_clip = result.best.clip
        used = result.best.settings  # what the engine ran: the panel's settings under the dialog's
        operation = {"op": pending["op"], "label": pending["title"], "prompt": pending["params"].get("prompt", ""),
                     "model": result.model_id, **{k: used[k] for k in KNOBS if k in used},
                     **{k: v for k, v in pending["params"].items() if k not in ("prompt", "seed")},
                     "seed": result.best.seed}
        ctl = self.controller
        if ctl.origin is pending["origin"]:
            selection = pending["selection"]
            if new_clip.frames != pending["clip_frames"]:  # continue / extend: select what is new
                grown = new_clip.frames - pending["clip_frames"]
                at = pending["at"] if operation["op"] == "continue" else selection.start
                selection = Selection(at, at + grown + (0 if operation["op"] == "continue" else selection.length))
            ctl.commit(new_clip, selection, operation, note=f"{pending['title']} done (seed {result.best.seed}); "
                                                            "Undo takes it back.")
        else:  # the user moved on to another clip: keep the result as a library version instead of losing it
            origin = pending["origin"]
            item = ctl.library.add(new_clip, prompt=origin.prompt, mode=origin.mode, model=result.model_id,
                                   licence=result.licence, seed=result.best.seed,
                                   settings=dict(origin.settings) | {"derived_from": origin.library_id,
                                                                     "edits": [operation]})
            self.editor.window.library_panel.library_changed()
            self.editor.window.show_message(f"{pending['title']} finished after you moved on: stored as “{item.title}” "
                                            "in the library.")
