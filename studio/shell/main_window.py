"""The main window: generation panel, job list, candidate cards, waveform view and library.

It owns the layout, menus, shortcuts and the wiring between panels; everything it computes comes
from `core` (engine through the job queue, library, presets, playback, export). Settings and window
state persist in `studio.ini` under the config folder (LOA_CONFIG_DIR overrides).

Every collaborator can be injected (tests, the display tier); with no arguments the window builds
its own from the user folders.
"""

from __future__ import annotations

import logging
from typing import Optional

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from core import APP_NAME, __version__
from core.devices.compute import pick_device
from core.devices.playback import Player, audio_status
from core.errors import InputError, LoaError
from core.generation.engine import GenerationResult
from core.generation.engine_cache import EngineCache
from core.generation.job_times import JobTimes
from core.generation.requests import GenerationRequest
from core.library.store import Library
from studio.export.dragout import attach as attach_dragout
from studio.generate.audition import Auditioner
from studio.generate.candidates import CandidatesView
from studio.generate.generation_panel import GenerationPanel
from studio.generate.modes import bar_lock_extra, mode_named, work_for
from studio.generate.panel_widgets import licence_text
from studio.jobs.job_list import JobListView
from studio.jobs.job_queue import Job, JobQueue, JobSpec
from studio.library.library_panel import LibraryPanel
from studio.library.session import autosave, load_shown_takes, save_shown_takes
from studio.library.window_library import LibraryActions
from studio.midi.tools import attach as attach_midi
from studio.models.model_manager import ModelManagerDialog
from studio.models.window_models import ModelActions
from studio.recording.tools import attach as attach_recording
from studio.shell import wheel_guard
from studio.shell.audio_rescan import attach as attach_audio_rescan
from studio.shell.clip_entry import ClipEntry
from studio.shell.gui_text import for_the_window
from studio.shell.message_log import MessageLog
from studio.shell.settings import StudioSettings
from studio.shell.window_layout import build_layout, compact_bottom_docks, first_start_docks, shrinkable_docks
from studio.shell.window_menus import build_menus
from studio.speech.tools import attach as attach_speech_tools

log = logging.getLogger(__name__)


class MainWindow(LibraryActions, ModelActions, QMainWindow):
    def __init__(self, settings: Optional[StudioSettings] = None, library: Optional[Library] = None,
                 jobs: Optional[JobQueue] = None, player: Optional[Player] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        wheel_guard.install(QApplication.instance())  # fields take the wheel only when focused
        self.setObjectName("mainWindow")
        self.setWindowTitle(f"{APP_NAME} {__version__}")
        self.settings = settings or StudioSettings()
        self.library = library or Library()
        self.jobs = jobs or JobQueue(EngineCache(device=self.settings.device), self)
        self.auditioner = Auditioner(player, self)
        self.model_manager: Optional[ModelManagerDialog] = None
        self._shown_entry: Optional[ClipEntry] = None  # the take or library item Export… / Copy / Space act on
        self._auto_shown: Optional[ClipEntry] = None  # a result's best take the window opened, not the user

        self.generation_panel = GenerationPanel(self.settings)
        self.job_list = JobListView(self.jobs, JobTimes(pick_device(self.jobs.engines.device).type))
        self.candidates = CandidatesView()
        self.library_panel = LibraryPanel(self.library)
        self.waveform = self._make_waveform_view()
        build_layout(self)
        self.message_log = MessageLog(self)
        build_menus(self)
        self._connect()
        attach_dragout(self)
        self.editor = self._make_editor()
        self.recording = attach_recording(self)  # Recording dock, Record menu, Settings > Audio input
        self.speech_tools = attach_speech_tools(self)  # Speech mode: reference voice and script editor
        self.midi = attach_midi(self)  # Pads dock, MIDI menu and learn, session tempo, DAW transport, compact mode
        attach_audio_rescan(self)  # Settings > Re-scan audio devices
        self.update_first_run_banner()
        shrinkable_docks(self, keep=(self.library_dock,))  # wide dock panels scroll: the window fits 1024x640
        self._restore_window_state()
        self.candidates.show_entries(load_shown_takes(self.library))  # the takes shown when last closed
        self._auto_shown = self.candidates.current()  # opened by the window: the next result may take its place
        autosave(self)  # from now on the shown takes are saved as they change: a crash loses none
        self.statusBar().showMessage(for_the_window(audio_status(self.settings.audio_device)))
        if self.settings.audio_device:
            self.auditioner.player.device = self.settings.audio_device

    # ---- layout ----------------------------------------------------------------------------------------
    def _make_waveform_view(self) -> Optional[QWidget]:
        """The waveform view of the selected clip (studio.waveform.waveform_view), following the player's position."""
        from studio.waveform.waveform_view import WaveformView

        view = WaveformView()
        view.attach_player(self.auditioner.player)
        return view

    # ---- wiring ----------------------------------------------------------------------------------------
    def _connect(self) -> None:
        gp = self.generation_panel
        gp.generate_requested.connect(self.submit)
        gp.manage_models_requested.connect(self.open_model_manager)
        gp.use_selected_requested.connect(self.use_selected_as_source)
        gp.message.connect(self.show_message)
        self.first_run_button.clicked.connect(self.open_model_manager)

        self.jobs.job_started.connect(lambda job: self.error_banner.setVisible(False))
        self.jobs.job_finished.connect(self._on_job_finished)
        self.jobs.job_failed.connect(self._on_job_failed)
        self.jobs.job_cancelled.connect(lambda job: self.show_message(f"Cancelled “{job.spec.describe()}”."))

        self.candidates.current_changed.connect(self.show_entry)
        self.candidates.play_toggled.connect(self.auditioner.toggle)
        self.candidates.audition_requested.connect(self.auditioner.play)
        self.candidates.keep_requested.connect(self.keep)
        self.candidates.more_like_this.connect(self.more_like_this)

        lp = self.library_panel
        lp.item_selected.connect(self._on_library_item_selected)
        lp.play_requested.connect(self._on_library_play)
        lp.reopen_requested.connect(self.reopen_settings)
        lp.message.connect(self.show_message)
        lp.changed.connect(lambda: self.candidates.sync_with_library(self.library))

        self.auditioner.started.connect(self._on_playback_started)
        if self.waveform is not None:
            self.waveform.seek_requested.connect(self._on_seek)
        self.auditioner.stopped.connect(lambda: self.candidates.mark_playing(None))
        self.auditioner.message.connect(self.show_message)

    # ---- generation ------------------------------------------------------------------------------------
    def submit(self, spec: JobSpec) -> Job:
        self.error_banner.setVisible(False)
        self.generation_panel.save_fields()  # what produced this job survives a crash
        if self.settings.store_all_generations and not spec.extra.get("editor_edit"):
            spec.after_work = self.library_writer()
        job = self.jobs.submit(spec)
        self.show_message(f"Queued “{spec.describe()}” on {spec.model}.")
        return job

    def _on_job_finished(self, job: Job, result: GenerationResult) -> None:
        if job.spec.extra.get("editor_edit"):
            return  # a generative edit: its result comes back into the editor (studio.editor.generative)
        mode = job.spec.mode
        entries = [ClipEntry.from_candidate(result, c, mode) for c in result.candidates]
        if job.spec.after_work is not None:  # stored on the worker thread (library_writer)
            for entry, item_id in zip(entries, job.library_ids):
                entry.library_id = item_id
            if job.store_error:
                self.show_error(f"Could not store the takes in the library: {job.store_error}")
            self.library_panel.items_added(job.library_ids)
        kept_clip = self.show_result_cards(entries)
        self.generation_panel.show_seed(result.request.seed)
        notes = "".join(f" Note: {note}" for note in result.notes)  # e.g. a prompt cut to the model's window
        self.show_message(f"{len(entries)} take{'s' if len(entries) > 1 else ''} of “{job.spec.describe()}” "
                          f"in {result.seconds_taken:.1f} s (seed {result.request.seed}).{notes}"
                          + (" The clip in the editor stays open: click a card to open a take." if kept_clip else ""))

    def library_writer(self):
        """What a job runs on its worker thread once its takes exist: add them to the library (audio files,
        sidecars, rows: fsyncs that stalled the GUI thread when done there)."""
        library = self.library

        def store(job: Job, result: GenerationResult) -> None:
            stored = []  # a disk that fills after the first take leaves that take's id on its card
            try:
                library.add_result(result, job.spec.mode, kept=False, into=stored)
            except (OSError, LoaError) as exc:
                job.store_error = str(exc)
            job.library_ids = [item.id for item in stored]

        return store

    def show_result_cards(self, entries: list[ClipEntry]) -> bool:
        """Finished takes land as cards. The best take opens in the editor only when the editor is empty or shows
        a take the window itself put there, untouched; a clip the user opened, loaded, recorded or edited stays
        until the user opens a card. True when the user's clip stayed."""
        keep = self._editor_holds_users_clip()
        self.candidates.show_entries(entries, select_first=not keep)
        self._auto_shown = None if keep else self.candidates.current()
        return keep

    def _editor_holds_users_clip(self) -> bool:
        if self.editor is None:
            return False
        ctl = self.editor.controller
        if ctl.session is not None:
            return True  # edits in progress
        return ctl.origin is not None and ctl.origin is not self._auto_shown

    def _on_job_failed(self, job: Job, message: str) -> None:
        self.show_error(message)

    def more_like_this(self, entry: ClipEntry) -> Optional[Job]:
        """Re-roll the take's settings with fresh random seeds."""
        settings = {k: v for k, v in entry.settings.items() if k in _REQUEST_FIELDS}
        try:
            mode = mode_named(entry.mode)
            request = GenerationRequest(**settings, seed=None, candidates=self.generation_panel.candidates_spin.value(),
                                        allow_empty_prompt=mode.needs_source_audio)
            request.validated()
        except (InputError, KeyError, TypeError) as exc:
            self.show_error(f"Cannot re-roll this take: {exc}")
            return None
        extra = {"source": entry.settings["source"]} if mode.needs_source_audio and entry.settings.get("source") else {}
        extra |= bar_lock_extra(entry.settings)  # a bar-locked take re-rolls at its own bars, tempo, meter, ending
        if mode.needs_source_audio and not extra:
            self.show_error("Cannot re-roll this take: the audio it continued is not recorded.")
            return None
        if mode.name == "speech" and self.speech_tools is not None:  # the words as typed, and its reference voice
            try:
                request, extra = self.speech_tools.reroll_inputs(entry, request)
            except InputError as exc:
                self.show_error(f"Cannot re-roll this take: {exc}")
                return None
        return self.submit(JobSpec(mode=entry.mode, model=entry.model, request=request, work=work_for(mode),
                                   title=f"more like: {entry.title}", extra=extra))

    def keep(self, entry: ClipEntry) -> None:
        try:
            if entry.library_id is not None:
                self.library.restore(entry.library_id)  # kept again after a delete: out of the trash
                self.library.set_kept(entry.library_id, True)
            else:
                self._store(entry, kept=True)
        except (OSError, LoaError) as exc:
            self.show_error(f"Could not keep the take: {exc}")
            return
        card = self.candidates.card_for(entry)
        if card is not None:
            card.set_kept(True)
        else:
            entry.kept = True
        self.library_panel.library_changed()
        self.show_message(f"Kept “{entry.title}” (seed {entry.seed}) in the library.")

    def _store(self, entry: ClipEntry, kept: bool) -> None:
        """Add a take that is not in the library yet, and remember its id on the entry."""
        item = self.library.add(entry.clip, prompt=entry.prompt, mode=entry.mode, model=entry.model,
                                licence=entry.licence, seed=entry.seed, score=entry.score,
                                settings=entry.settings, kept=kept)
        entry.library_id = item.id

    # ---- selection, waveform, export -------------------------------------------------------------------
    def selected_entry(self) -> Optional[ClipEntry]:
        return self._shown_entry

    def show_entry(self, entry: ClipEntry) -> None:
        """The clip the waveform view shows and Export… / Copy act on."""
        self._shown_entry = entry
        if self.editor is not None:
            self.editor.show_entry(entry)  # the editor may show its edited version instead (entry_shown)
        elif self.waveform is not None:
            self.waveform.set_clip(entry.clip)

    def _make_editor(self):
        """The waveform editor (studio.editor): transport, edit toolbar and menus, file import, restore."""
        from studio.editor.editor import install_editor

        editor = install_editor(self)
        if editor is not None:
            editor.entry_shown.connect(lambda entry: setattr(self, "_shown_entry", entry))
        return editor

    def _entry_and_range(self, verb: str) -> Optional[tuple[ClipEntry, Optional[float], Optional[float]]]:
        """The selected entry with its waveform selection (None, None: the whole clip); None after saying
        there is nothing selected to `verb`."""
        entry = self.selected_entry()
        if entry is None:
            self.show_message(f"Select a take or a library item to {verb}.")
            return None
        selection = self.waveform.selection() if self.waveform is not None else None
        return (entry, *(selection if selection is not None else (None, None)))

    def export_selected(self):
        """File > Export…: the selected take or library item (its waveform selection, if any) via a dialog."""
        chosen = self._entry_and_range("export")
        if chosen is None:
            return None
        entry, start, end = chosen
        path = self.dragout.export_with_dialog(self, entry.clip, entry.provenance(), self.settings.export_settings(),
                                               None, start, end, on_error=self.show_error, memory=self.settings)
        if path is not None:
            self.show_message(f"Exported {path}. {licence_text(entry.licence)}")
        return path

    def copy_selected(self):
        """File > Copy to clipboard: the file URL of the selected take or library item (or its selection)."""
        chosen = self._entry_and_range("copy")
        if chosen is None:
            return None
        entry, start, end = chosen
        path = self.dragout.copy_to_clipboard(entry.clip, entry.provenance(), self.settings.export_settings(),
                                              start, end, on_error=self.show_error)
        if path is not None:
            self.show_message(f"Copied {path.name} to the clipboard. {licence_text(entry.licence)}")
        return path

    def toggle_playback(self) -> None:
        if self.editor is not None:  # the selection, or from the cursor
            self.editor.playback.toggle()
            return
        entry = self.selected_entry()
        if self.auditioner.is_playing:
            self.auditioner.stop()
        elif entry is not None:
            self.auditioner.play(entry)

    def use_selected_as_source(self) -> None:
        """Continue mode: take the selected clip (stored in the library first if need be) as the source."""
        entry = self.selected_entry()
        if entry is None:
            self.show_message("Select a take or a library item first.")
            return
        try:
            if entry.library_id is None:
                self._store(entry, kept=False)
                self.library_panel.library_changed()
            path = self.library.get(entry.library_id).audio_path
        except (OSError, LoaError) as exc:
            self.show_error(f"Cannot use the selected clip: {exc}")
            return
        self.generation_panel.source_edit.setText(str(path))

    def _on_playback_started(self, entry: ClipEntry) -> None:
        self.candidates.mark_playing(entry)
        if self.waveform is not None and self.waveform.clip() is entry.clip:
            self.waveform.follow_playback()

    def _on_seek(self, seconds: float) -> None:
        """A click on the waveform: jump there, and keep playing from there if the shown clip is playing."""
        entry = self.selected_entry()
        if entry is not None and self.auditioner.is_playing and self.auditioner.current is entry:
            self.auditioner.play(entry, start=seconds)

    # ---- messages and lifetime ---------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        """A one-line note in the status bar; one too long for it also shows, wrapped, above the cards."""
        text = for_the_window(text)
        self.message_log.note(text)  # an earlier error no longer applies: its banner clears (kept in the history)
        self.statusBar().showMessage(text, 10_000)
        self.statusBar().setToolTip(text)
        fits = self.statusBar().fontMetrics().horizontalAdvance(text) < self.statusBar().width() - 40
        self.message_area.setText(text)
        self.message_area.setVisible(not fits)
        if not fits:
            self._message_timer.start()

    def show_error(self, text: str) -> None:
        text = for_the_window(text)
        self.message_log.error(text)
        self.error_banner.setText(text)
        self.error_banner.setVisible(True)
        self.message_area.setVisible(False)
        self.statusBar().showMessage(text, 15_000)
        self.statusBar().setToolTip(text)

    def _restore_window_state(self) -> None:
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        else:  # first start: docks as tabs, a slim library beside the cards (docks size themselves once shown)
            first_start_docks(self, front=self.library_dock)
            QTimer.singleShot(0, self, lambda: (
                self.resizeDocks([self.library_dock], [320], Qt.Orientation.Horizontal), compact_bottom_docks(self)))

    def end_session(self) -> None:
        """SIGTERM / logout (studio.shell.quit_on_signal): close as Quit does, without asking about unsaved edits
        (they stay in their closed sessions: the next start names them and the library marks them)."""
        self._ending_session = True
        self.close()

    def closeEvent(self, event) -> None:
        if self.editor is not None:
            if getattr(self, "_ending_session", False):
                self.editor.playback.stop()
                self.editor.controller.close_clip()  # saved edits: a clean session, never offered as a crash
            elif not self.editor.confirm_quit():  # unsaved edits: save / discard / cancel
                event.ignore()
                return
        self.generation_panel.save_fields()
        try:
            save_shown_takes([card.entry for card in self.candidates.cards], self.library)
        except (OSError, LoaError) as exc:  # a full disk must not stop the window from closing
            log.warning("could not keep the shown takes for the next start: %s", exc)
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.auditioner.stop()
        self.recording.shutdown()  # a take in progress lands in the library, never dropped
        self.jobs.shutdown()
        if self.model_manager is not None:
            self.model_manager.done(0)
        super().closeEvent(event)


_REQUEST_FIELDS = ("prompt", "negative_prompt", "seconds", "steps", "guidance", "scheduler", "transcription")
