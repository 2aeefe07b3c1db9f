"""Generative edits from the editor's selection: regenerate (inpaint), continue from here, extend / close a loop,
transform. Each runs as a job in the window's queue (progress and cancel in the job list); the result comes back
as the next version of the clip in the edit session, so Undo takes it back like any edit.

The work functions run on the job worker (core.incontext.operations, core transform) and return a
GenerationResult whose best candidate is the whole new clip; the window's job handler leaves these jobs to us.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional

import numpy as np
from PySide6.QtCore import QObject

from core.audio.clip import Clip
from core.editing import Selection
from core.errors import LoaError
from core.models.catalog import DEFAULT_MODEL_BY_TASK

from ..jobs import Job, JobSpec
from .dialogs import generative_dialog

EDITOR_JOB = "editor_edit"  # JobSpec.extra key: the window's own job handler skips these


def _settings(params: dict, seed: Optional[int] = None):
    from core.incontext.operations import GenerationSettings

    return GenerationSettings(prompt=params.get("prompt", ""), steps=int(params.get("steps", 25)), seed=seed)


def _spliced(clip: Clip, start: int, end: int, middle: np.ndarray) -> Clip:
    """The clip with frames [start, end) replaced by `middle` (same rate and channels)."""
    return Clip(np.concatenate([clip.samples[:start], middle, clip.samples[end:]]), clip.sample_rate)


# ---- work functions (job worker thread) -----------------------------------------------------------------
def regenerate_work(engine, spec, progress, cancel):
    from core.incontext.operations import inpaint

    x = spec.extra
    return inpaint(engine, x["clip"], x["start_seconds"], x["end_seconds"], _settings(x), progress=progress,
                   cancel=cancel)


def continue_work(engine, spec, progress, cancel):
    """Continue from the cursor: new audio follows the part before it; what came after the cursor follows."""
    from core.incontext.operations import continue_clip

    x = spec.extra
    clip, at = x["clip"], x["at"]
    head = Clip(clip.samples[:at], clip.sample_rate)
    result = continue_clip(engine, head, x["seconds"], _settings(x), progress=progress, cancel=cancel)
    return _map(result, lambda new: _spliced(clip, at, at, new.samples[at:]))


def extend_loop_work(engine, spec, progress, cancel):
    from core.incontext.operations import extend_loop

    x = spec.extra
    clip, start, end = x["clip"], x["start"], x["end"]
    loop = Clip(clip.samples[start:end], clip.sample_rate)
    result = extend_loop(engine, loop, x["bars"], bpm=x.get("bpm") or None, settings=_settings(x), progress=progress,
                         cancel=cancel)
    return _map(result, lambda new: _spliced(clip, start, end, new.samples))


def close_loop_work(engine, spec, progress, cancel):
    from core.incontext.operations import close_loop

    x = spec.extra
    clip, start, end = x["clip"], x["start"], x["end"]
    loop = Clip(clip.samples[start:end], clip.sample_rate)
    result = close_loop(engine, loop, settings=_settings(x), progress=progress, cancel=cancel)
    return _map(result, lambda new: _spliced(clip, start, end, new.samples))


def transform_work(engine, spec, progress, cancel):
    from core.incontext.transform import transform

    x = spec.extra
    return transform(engine, x["clip"], strength=x["strength"], start=x["start_seconds"], end=x["end_seconds"],
                     settings=_settings(x), progress=progress, cancel=cancel)


def _map(result, fix):
    return replace(result, candidates=[replace(c, clip=fix(c.clip)) for c in result.candidates])


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

    def model(self) -> str:
        return self.settings.model_for_mode("sound") or DEFAULT_MODEL_BY_TASK["sound"]

    # ---- menu entries (ask, then submit) -----------------------------------------------------------------
    def regenerate(self, params: Optional[dict] = None) -> Optional[Job]:
        return self._start("Regenerate selection", regenerate_work, params, needs_selection=True,
                           dialog=lambda: generative_dialog("Regenerate selection", self.editor.window))

    def continue_here(self, params: Optional[dict] = None) -> Optional[Job]:
        return self._start("Continue from here", continue_work, params,
                           dialog=lambda: generative_dialog("Continue from here", self.editor.window, seconds=4.0))

    def extend_loop(self, params: Optional[dict] = None) -> Optional[Job]:
        # The session tempo (MIDI clock, typed or tapped; studio.midi) is used instead of estimating one.
        session = getattr(self.editor.window, "session_bpm", lambda: None)()
        if params is not None and not params.get("bpm") and session:
            params = {**params, "bpm": session}
        return self._start("Extend loop", extend_loop_work, params,
                           dialog=lambda: generative_dialog("Extend loop", self.editor.window, bars=True,
                                                            bpm=session or 0.0))

    def close_loop(self, params: Optional[dict] = None) -> Optional[Job]:
        return self._start("Close loop", close_loop_work, params,
                           dialog=lambda: generative_dialog("Close loop", self.editor.window))

    def transform(self, params: Optional[dict] = None) -> Optional[Job]:
        return self._start("Transform selection", transform_work, params, needs_prompt=True,
                           dialog=lambda: generative_dialog("Transform selection", self.editor.window, strength=True,
                                                            prompt_hint="what it should become"))

    def _start(self, title: str, work, params: Optional[dict], dialog, needs_selection: bool = False,
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
            self._check(work, clip, extra)
            request = _settings(params).request(max(0.1, (whole.end - whole.start) / rate))
        except LoaError as exc:
            self.editor.window.show_error(f"{title}: {exc}")
            return None
        spec = JobSpec(mode="edit", model=self.model(), request=request, work=work,
                       title=f"{title}: {params.get('prompt') or ctl.origin.prompt or 'clip'}", extra=extra)
        job = self.jobs.submit(spec)
        self.pending[job.id] = {"origin": ctl.origin, "session": ctl.session, "title": title, "params": params,
                                "selection": whole}
        self.editor.window.show_message(f"Queued “{spec.describe()}”; the result comes back as an undoable edit.")
        return job

    def _check(self, work, clip: Clip, extra: dict) -> None:
        """Refuse at once what the worker would refuse (too short, silent, a range the model cannot hold)."""
        from core.incontext.operations import check_clip, check_range

        if work is regenerate_work:
            check_clip(clip)
            check_range(clip, extra["start_seconds"], extra["end_seconds"])
        elif work is continue_work:
            check_clip(Clip(clip.samples[:extra["at"]], clip.sample_rate))
        elif work is transform_work:
            from core.incontext.transform import check_transform

            check_transform(clip, extra["start_seconds"], extra["end_seconds"], extra["strength"])
        elif work in (extend_loop_work, close_loop_work):
            check_clip(Clip(clip.samples[extra["start"]:extra["end"]], clip.sample_rate))

    def _on_finished(self, job: Job, result) -> None:
        pending = self.pending.pop(job.id, None)
        if pending is None:
            return
        new_clip = result.best.clip
        operation = {"op": job.spec.work.__name__.removesuffix("_work"), "label": pending["title"],
                     "prompt": pending["params"].get("prompt", ""), "seed": result.best.seed,
                     "model": result.model_id, **{k: v for k, v in pending["params"].items() if k != "prompt"}}
        ctl = self.controller
        if ctl.origin is pending["origin"]:
            selection = pending["selection"]
            if new_clip.frames != job.spec.extra["clip"].frames:  # continue / extend: select what is new
                grown = new_clip.frames - job.spec.extra["clip"].frames
                at = job.spec.extra["at"] if operation["op"] == "continue" else selection.start
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
