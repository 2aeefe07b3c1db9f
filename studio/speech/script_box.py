"""The script editor of Speech mode: the `loa speak --script` file format, checked as you type.

One utterance per line, `[NAME]` picks a voice defined with `@voice NAME: description` or a speech
preset, a blank line doubles the pause. The text is parsed with core.speech.script, so a script
saved here speaks the same from the CLI and back; a bad line is marked and named with the CLI's
message. Below it, one row per line shows its take, with Play and Re-roll.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QColor, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from core.errors import InputError
from core.fileio import write_text_atomic
from core.generation.presets import presets_for
from core.speech import DEFAULT_VOICE, Script, SpeechRequest, estimate_seconds, normalize_text, parse_script
from core.speech.script import DEFAULT_PAUSE_SECONDS, MAX_PAUSE_SECONDS, script_file_names
from core.wording import counted
from studio.export.format_picker import FormatPicker
from studio.shell.file_dialogs import choose_folder, open_file, save_file
from studio.shell.labels import WrappingLabel
from studio.speech.script_lines import ScriptLinesTable
from studio.speech.script_session import ScriptSession

SCRIPT_FILTER = "Scripts (*.txt);;All files (*)"
CHECK_DELAY_MS = 400  # re-check after typing pauses this long
EXAMPLE = ("@voice host: a calm male narrator in a quiet studio\n"
           "[host] Welcome to the show.\n"
           "@pause 1.5\n"
           "A line without a tag uses the voice described in the panel.\n\n"
           "A blank line doubles the pause before the next line.")
_LINE_NUMBER = re.compile(r"script line (\d+)")

# What the script is spoken with: the panel's settings (the default voice, steps, guidance, seed...) and model.
SettingsProvider = Callable[[], tuple[SpeechRequest, str]]


class ScriptBox(QWidget):
    line_selected = Signal(object)  # LineState with a take: show it
    play_requested = Signal(object)  # LineState with a take: play it
    message = Signal(str)  # a problem to show in the window
    info = Signal(str)  # news for the status bar

    def __init__(self, session: ScriptSession, settings_provider: SettingsProvider,
                 reference_provider: Callable[[], object], draft_path: Optional[Path] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("scriptBox")
        self.session = session
        self.draft_path = draft_path  # the text as last typed, kept across restarts (and crashes)
        self._settings_provider = settings_provider
        self._reference_provider = reference_provider
        self.path: Optional[Path] = None  # the script file opened or saved

        self.open_button = QPushButton("Open…")
        self.save_button = QPushButton("Save…")
        self.voice_combo = QComboBox()
        self.voice_combo.setObjectName("voiceTagCombo")
        self.voice_combo.setToolTip("Put a voice tag at the start of the current line")
        self.voice_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.voice_combo.setMinimumContentsLength(12)

        self.editor = QPlainTextEdit()
        self.editor.setObjectName("scriptEdit")
        self.editor.setPlaceholderText(EXAMPLE)
        self.editor.setMinimumHeight(60)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.pause_spin = QDoubleSpinBox()
        self.pause_spin.setObjectName("pauseSpin")
        self.pause_spin.setRange(0.0, MAX_PAUSE_SECONDS)
        self.pause_spin.setSingleStep(0.1)
        self.pause_spin.setSuffix(" s")
        self.pause_spin.setValue(DEFAULT_PAUSE_SECONDS)
        self.pause_spin.setToolTip("Silence between lines; a blank line in the script doubles it, and a line "
                                   "`@pause SECONDS` sets it exactly before the next line")
        self.summary = QLabel()
        self.summary.setObjectName("scriptSummary")
        files_row = QHBoxLayout()
        for widget in (self.open_button, self.save_button, self.voice_combo, QLabel("Pause"), self.pause_spin):
            files_row.addWidget(widget)
        files_row.addWidget(self.summary, 1)
        self.problem = WrappingLabel()  # a long file name wraps, never widens the window
        self.problem.setObjectName("scriptProblem")
        self.problem.setStyleSheet("color: #c0392b;")
        self.problem.setVisible(False)

        self.render_button = QPushButton("Render all")
        self.render_button.setObjectName("renderAllButton")
        self.cancel_button = QPushButton("Cancel")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write the whole script and one file per line into a folder")
        actions = QHBoxLayout()
        for button in (self.render_button, self.cancel_button, self.export_button):
            actions.addWidget(button)
        self.format_picker = FormatPicker(name="scriptFormat")  # what Export… writes: File > Export…'s formats
        self.format_picker.changed.connect(self._update_actions)
        self.progress = QProgressBar()
        self.progress.setObjectName("scriptProgress")
        self.progress.setFormat("%v of %m lines")
        self.progress.setVisible(False)

        self.table = ScriptLinesTable(session)

        # Wide and short (a bottom dock): the text on the left, the lines and their takes on the right.
        left = QVBoxLayout()
        left.addLayout(files_row)
        left.addWidget(self.editor, 1)
        left.addWidget(self.format_picker)  # under the text, where the width is: the lines' takes keep theirs
        left.addWidget(self.problem)
        right = QVBoxLayout()
        right.addLayout(actions)
        right.addWidget(self.progress)
        right.addWidget(self.table, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(lambda: (self.check(quiet=True), self.save_draft()))
        self.editor.textChanged.connect(self._check_timer.start)
        self.pause_spin.valueChanged.connect(lambda _v: self._check_timer.start())
        self.open_button.clicked.connect(self.open_dialog)
        self.save_button.clicked.connect(self.save_dialog)
        self.voice_combo.activated.connect(self._insert_voice_tag)
        self.render_button.clicked.connect(self.render_all)
        self.cancel_button.clicked.connect(session.cancel)
        self.export_button.clicked.connect(self.export_dialog)
        self.table.line_selected.connect(self.line_selected)
        self.table.play_requested.connect(self.play_requested)
        self.table.reroll_requested.connect(self.reroll)
        session.line_changed.connect(lambda _i: self._update_actions())
        session.all_done.connect(self._update_actions)
        self._fill_voice_combo(None)
        self._update_actions()
        self.restore_draft()

    # ---- checking --------------------------------------------------------------------------------------
    def parse(self, settings: Optional[SpeechRequest] = None) -> Script:
        """The editor's script, every line checked (numbers too when `settings` is given); InputError names
        the line the way `loa speak --script` does."""
        voice = settings.voice if settings is not None else self._default_voice()
        script = parse_script(self.editor.toPlainText(), voice, round(self.pause_spin.value(), 3))
        script.check(settings)
        return script

    def check(self, quiet: bool = False, settings: Optional[SpeechRequest] = None) -> Optional[Script]:
        """Parse and check; mark and name a bad line (and tell the window unless `quiet`, i.e. while typing)."""
        try:
            script = self.parse(settings)
        except InputError as exc:
            self._show_problem(str(exc), quiet)
            self.summary.setText("")
            return None
        self._show_problem("", quiet=True)
        self._fill_voice_combo(script)
        self.session.set_script(script)
        self._rebuild_table()
        seconds = sum(estimate_seconds(normalize_text(line.text)) + line.pause_before for line in script.lines)
        count = len(script.lines)
        self.summary.setText(f"{count} line{'s' if count != 1 else ''}, about {seconds:.0f} s")
        return script

    def _default_voice(self) -> str:
        try:
            return self._settings_provider()[0].voice
        except InputError:  # e.g. no model yet: the words can still be checked
            return DEFAULT_VOICE

    def _show_problem(self, text: str, quiet: bool) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        selections = []
        match = _LINE_NUMBER.search(text) or re.search(r"^line (\d+)", text)
        if match:
            block = self.editor.document().findBlockByNumber(int(match.group(1)) - 1)
            if block.isValid():
                mark = QTextEdit.ExtraSelection()
                mark.format.setBackground(QColor("#f6d5d1"))
                mark.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
                mark.cursor = QTextCursor(block)
                selections.append(mark)
                if not quiet:
                    self.editor.setTextCursor(QTextCursor(block))
                    self.editor.centerCursor()
        self.editor.setExtraSelections(selections)
        if text and not quiet:
            self.message.emit(text)

    @property
    def problem_line(self) -> Optional[int]:
        """The script line the shown problem is about (1-based), if it names one."""
        match = _LINE_NUMBER.search(self.problem.text())
        return int(match.group(1)) if match else None

    # ---- voices ------------------------------------------------------------------------------------------
    def _fill_voice_combo(self, script: Optional[Script]) -> None:
        names = sorted(script.voices) if script is not None else []
        presets = [p.name for p in presets_for("speech") if p.prompt]
        current = [self.voice_combo.itemData(i) for i in range(1, self.voice_combo.count())]
        wanted = [None, *names, *presets]
        if current == wanted[1:] and self.voice_combo.count():
            return
        self.voice_combo.clear()
        self.voice_combo.addItem("Voice for this line…", None)
        self.voice_combo.addItem("(default voice: no tag)", "")
        for name in names:
            self.voice_combo.addItem(f"[{name}]  defined in the script", name)
        for name in presets:
            self.voice_combo.addItem(f"[{name}]  preset", name)

    def _insert_voice_tag(self, index: int) -> None:
        """Replace the current line's [tag] with the chosen voice (no tag for the default voice)."""
        name = self.voice_combo.itemData(index)
        self.voice_combo.setCurrentIndex(0)
        if name is None:
            return
        cursor = self.editor.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
        words = re.sub(r"^\s*\[[^\]]*\]\s*", "", cursor.selectedText())
        cursor.insertText(f"[{name}] {words}" if name else words)
        self.editor.setFocus()

    # ---- rendering ---------------------------------------------------------------------------------------
    def render_all(self) -> bool:
        """Check everything (lines, reference, model) before queuing any job; False after naming a problem."""
        try:
            settings, model = self._settings_provider()
            reference = self._reference_provider()
        except InputError as exc:
            self.message.emit(str(exc))
            return False
        script = self.check(settings=settings)
        if script is None:
            return False
        try:
            self.session.render_all(script, settings, model, reference)
        except InputError as exc:
            self._show_problem(str(exc), quiet=False)
            return False
        self._rebuild_table()
        return True

    def reroll(self, index: int) -> None:
        try:
            self.session.reroll(index)
        except InputError as exc:
            self.message.emit(str(exc))

    def _rebuild_table(self) -> None:
        self.table.rebuild()
        self._update_actions()

    def _update_actions(self) -> None:
        states = self.session.states
        running = self.session.running
        self.cancel_button.setEnabled(running)
        self.render_button.setEnabled(not running)
        self.export_button.setEnabled(bool(states) and all(s.result is not None for s in states) and not running
                                      and not self.format_picker.problem())
        self.progress.setVisible(running or 0 < self.session.rendered_count() < len(states))
        self.progress.setRange(0, max(1, len(states)))
        self.progress.setValue(sum(1 for s in states if s.result is not None and s.job_id is None))

    # ---- the draft -------------------------------------------------------------------------------------------
    def save_draft(self) -> None:
        if self.draft_path is None:
            return
        draft = {"text": self.editor.toPlainText(), "pause": self.pause_spin.value(),
                 "path": str(self.path) if self.path is not None else None}
        try:
            write_text_atomic(self.draft_path, json.dumps(draft))
        except (OSError, InputError):
            pass  # a draft is a convenience; the script file and the editor still hold the text

    def restore_draft(self) -> None:
        try:
            draft = json.loads(self.draft_path.read_text(encoding="utf-8")) if self.draft_path else None
        except (OSError, ValueError):
            return
        if not isinstance(draft, dict) or not isinstance(draft.get("text"), str):
            return
        self.editor.setPlainText(draft["text"])
        if isinstance(draft.get("pause"), (int, float)):
            self.pause_spin.setValue(draft["pause"])
        self.path = Path(draft["path"]) if isinstance(draft.get("path"), str) else None
        self.editor.document().setModified(False)

    def hideEvent(self, event) -> None:  # the window closes or the dock goes away: keep what was typed
        self.save_draft()
        super().hideEvent(event)

    # ---- files -------------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.path.stem if self.path is not None else "script"

    def open_file(self, path: str | Path) -> bool:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            self.message.emit(f"{path.name} is not UTF-8 text; save the script as UTF-8.")
            return False
        except OSError as exc:
            self.message.emit(f"Cannot open {path}: {exc.strerror or exc}")
            return False
        self.editor.setPlainText(text)
        self.editor.document().setModified(False)
        self.path = path
        self.check(quiet=True)
        return True

    def save_file(self, path: str | Path) -> bool:
        """Write the script atomically (temp file + rename): a failed save leaves the old file whole."""
        path = Path(path)
        try:
            write_text_atomic(path, self.editor.toPlainText())
        except (OSError, InputError) as exc:
            self.message.emit(f"Cannot save {path}: {getattr(exc, 'strerror', None) or exc}")
            return False
        self.editor.document().setModified(False)
        self.path = path
        return True

    def export_to(self, folder: str | Path):
        """Write the joined script and every line's file into `folder` (see write_script)."""
        try:
            return self.session.export(folder, self.name, self.format_picker.choice())
        except InputError as exc:
            self.message.emit(str(exc))
        except OSError as exc:
            self.message.emit(f"Cannot export into {folder}: {exc.strerror or exc}")
        return None

    def open_dialog(self) -> None:
        if self.editor.document().isModified() and self.editor.toPlainText().strip():
            answer = QMessageBox.question(self, "Open a script", "Replace the script in the editor? Its changes "
                                          "are not saved.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        path = open_file(self, "script", "Open a script", SCRIPT_FILTER)
        if path:
            self.open_file(path)

    def save_dialog(self) -> None:
        start = str(self.path) if self.path is not None else "script.txt"
        path = save_file(self, "script", "Save the script", start, SCRIPT_FILTER)
        if path:
            self.save_file(path)

    def export_dialog(self) -> None:
        try:
            names = script_file_names(self.session.result(), self.name, self.format_picker.extension())
        except InputError as exc:
            self.message.emit(str(exc))
            return
        folder = choose_folder(self, "script-export", "Export the script into a folder")
        if not folder:
            return
        existing = [n for n in names if (Path(folder) / n).exists()]
        if existing:
            answer = QMessageBox.question(self, "Replace files?", _already_there(existing, folder))
            if answer != QMessageBox.StandardButton.Yes:
                return
        written = self.export_to(folder)
        if written is not None:
            self.info.emit(f"Exported {written[0]} and {counted(len(written[1]), 'line file')}.")


def _already_there(existing: list[str], folder: str) -> str:
    """The question before replacing files an export would overwrite, in the right number."""
    if len(existing) == 1:
        return f"{existing[0]} already exists in {folder}. Replace it?"
    return f"{counted(len(existing), 'file')} already exist in {folder}, e.g. {existing[0]}. Replace them?"
