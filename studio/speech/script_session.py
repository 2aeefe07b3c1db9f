"""A script being rendered in the window: one job per line on the shared job queue, a take per line.

"Render all" speaks every line with one seed (core.speech.script.render_line, exactly as
`loa speak --script` would); "Re-roll" speaks one line again with a new seed and leaves the other
takes untouched. Once every line has a take, the script joins them (core.speech.script.assemble)
and exports the joined file plus one file per line (core.speech.script.write_script).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QObject, Signal

from core.errors import InputError
from core.generation import tasks
from core.generation.engine import GenerationResult
from core.generation.requests import MAX_CANDIDATES, MAX_SEED
from core.speech import ReferenceVoice, Script, ScriptLine, SpeechRequest
from core.speech.script import ScriptResult, assemble, line_request, script_seed, write_script
from studio.jobs.job_list import progress_text
from studio.jobs.job_queue import Job, JobQueue, JobSpec


@dataclass
class LineState:
    line: ScriptLine
    seed: Optional[int] = None  # the seed of the job running or of the take held
    result: Optional[GenerationResult] = None
    status: str = "not rendered"  # not rendered, queued, rendering, done, failed, cancelled
    job_id: Optional[int] = None
    error: str = ""
    detail: str = ""  # what the running job is doing, e.g. "denoising: step 3 of 25"


class ScriptSession(QObject):
    """The lines of one script and their takes; jobs go through `submit` and report through `jobs`."""

    line_changed = Signal(int)  # index of the line whose status or take changed
    all_done = Signal()  # every line has a take and no job is running
    message = Signal(str)

    def __init__(self, jobs: JobQueue, submit: Callable[[JobSpec], Job], parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self._submit = submit
        self.script: Optional[Script] = None
        self.states: list[LineState] = []
        self.settings: Optional[SpeechRequest] = None
        self.model = ""
        self.reference: Optional[ReferenceVoice] = None
        jobs.job_started.connect(lambda job: self._status(job, "rendering"))
        jobs.job_progress.connect(self._on_progress)
        jobs.job_finished.connect(self._on_finished)
        jobs.job_failed.connect(lambda job, text: self._status(job, "failed", text))
        jobs.job_cancelled.connect(lambda job: self._status(job, "cancelled"))

    # ---- the script ----------------------------------------------------------------------------------
    def set_script(self, script: Script) -> None:
        """Show a (re-)parsed script: lines whose words and voice are unchanged keep their takes."""
        previous = {(s.line.text, s.line.voice, s.line.negative_prompt): s for s in self.states}
        states = []
        for line in script.lines:
            old = previous.pop((line.text, line.voice, line.negative_prompt), None)
            # A running line stays tied to its job, so its take still lands when the text around it changes.
            states.append(LineState(line, old.seed, old.result, old.status, old.job_id, old.error, old.detail)
                          if old is not None else LineState(line))
        self.script, self.states = script, states
        for index in range(len(states)):
            self.line_changed.emit(index)

    @property
    def running(self) -> bool:
        return any(s.job_id is not None for s in self.states)

    def rendered_count(self) -> int:
        return sum(1 for s in self.states if s.result is not None)

    # ---- rendering -----------------------------------------------------------------------------------
    def render_all(self, script: Script, settings: SpeechRequest, model: str,
                   reference: Optional[ReferenceVoice] = None) -> list[Job]:
        """Check every line, then queue one job per line, all with the script's one seed."""
        if self.running:
            raise InputError("the script is still rendering: wait, or press Cancel first.")
        script.check(settings)
        self.set_script(script)
        self.settings, self.model, self.reference = settings, model, reference
        seed = script_seed(settings)
        return [self._queue(index, seed) for index in range(len(self.states))]

    def reroll(self, index: int) -> Job:
        """Speak line `index` again with a new random seed; the other lines keep their takes."""
        if self.settings is None or not 0 <= index < len(self.states):
            raise InputError("render the script first (Render all), then re-roll a line.")
        state = self.states[index]
        if state.job_id is not None:
            raise InputError(f"spoken line {index + 1} is still rendering.")
        seed = state.seed
        while seed == state.seed:
            seed = random.randrange(0, MAX_SEED - MAX_CANDIDATES)
        return self._queue(index, seed)

    def _queue(self, index: int, seed: int) -> Job:
        state = self.states[index]
        line = state.line
        request = line_request(self.settings, line, seed).generation_request()
        title = f"line {index + 1}: {line.text}"  # the spoken line, as the script table numbers it
        spec = JobSpec(mode="speech", model=self.model, request=request, title=title,
                       task=tasks.SpeakLine(line, self.settings, seed, self.reference))
        job = self._submit(spec)
        state.job_id, state.seed, state.status, state.error = job.id, seed, "queued", ""
        self.line_changed.emit(index)
        return job

    def cancel(self) -> None:
        for state in self.states:
            if state.job_id is not None:
                self.jobs.cancel(state.job_id)

    # ---- job reports ---------------------------------------------------------------------------------
    def _index_of(self, job: Job) -> Optional[int]:
        return next((i for i, s in enumerate(self.states) if s.job_id == job.id), None)

    def _status(self, job: Job, status: str, error: str = "") -> None:
        index = self._index_of(job)
        if index is None:
            return
        state = self.states[index]
        state.status, state.error = status, error
        if status != "rendering":  # failed or cancelled: the line keeps the take it had, if any
            state.job_id = None
            if state.result is not None:
                state.seed = state.result.best.seed
        self.line_changed.emit(index)

    def _on_progress(self, job: Job, progress) -> None:
        index = self._index_of(job)
        if index is not None:
            self.states[index].detail = progress_text(progress)
            self.line_changed.emit(index)

    def _on_finished(self, job: Job, result: GenerationResult) -> None:
        index = self._index_of(job)
        if index is None:
            return
        state = self.states[index]
        state.result, state.status, state.job_id = result, "done", None
        self.line_changed.emit(index)
        if not self.running and self.rendered_count() == len(self.states):
            self.all_done.emit()

    # ---- the joined script ---------------------------------------------------------------------------
    def result(self) -> ScriptResult:
        """Every line's take joined with the pauses; InputError naming the first line without a take."""
        if not self.states:
            raise InputError("the script has no lines yet: write one utterance per line and press Render all.")
        for state in self.states:
            if state.result is None:
                raise InputError(f"script line {state.line.number} has no take yet ({state.status}): press "
                                 "Render all, or Re-roll that line.")
        return assemble([(s.line, s.result) for s in self.states])

    def export(self, folder: str | Path, name: str, choice=None) -> tuple[Path, list[Path]]:
        """`choice`: core.audio.formats.export.ExportSettings from the panel's format picker (None: WAV, 24-bit, or float
        above 0 dBFS)."""
        inputs = [self.reference.path] if self.reference is not None and self.reference.path else []
        if choice is None:
            return write_script(self.result(), folder, name=name, inputs=inputs)
        from core.audio.formats.take import extension_for

        return write_script(self.result(), folder, name=name, extension=extension_for(choice),
                            subtype=choice.sample_format, rate=choice.sample_rate, inputs=inputs)
