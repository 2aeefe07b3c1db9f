"""The reference-voice box of Speech mode: a recording whose voice the new words are spoken in.

The recording comes from a file, the take or library item selected in the window, or (through
`set_reference_clip`) anything else that has a Clip, e.g. a recorder. It is checked the moment it is
picked (core.speech.reference: 1-8 s of a voice speaking, any rate or channels), so a bad one is
named before any job starts; `reference_voice()` adds the words said in it and refuses the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QToolButton, QWidget

from core.audio.clip import Clip, load_clip
from core.errors import InputError, LoaError
from core.speech import ReferenceVoice
from core.speech.reference import MAX_REFERENCE_SECONDS, MIN_REFERENCE_SECONDS, checked_reference_audio
from studio.shell.file_dialogs import open_file
from studio.shell.labels import WrappingLabel

AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.oga *.aiff *.aif *.mp3)"
COMPACT = "padding: 2px 8px;"  # buttons in a form row: the panel stays narrow at 1024 px


class ReferenceBox(QWidget):
    """Pick, check and hold the reference recording and the words said in it.

    Its parts go into a form as rows (`rows()`): the buttons, "It says", and a status line that names
    the recording and its length or says what is wrong with it.
    """

    use_selected_requested = Signal()  # the window answers with set_reference_clip(selected clip)
    changed = Signal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("referenceBox")
        self._clip: Optional[Clip] = None
        self._source = ""
        self._problem: Optional[str] = None  # the check's message when the recording is unusable
        self._speech_seconds = 0.0  # its length once edge silence is trimmed
        self.path: Optional[Path] = None  # the file the recording came from, if it is one

        self.file_button = QPushButton("File…")
        self.file_button.setToolTip(f"A recording of the voice: {MIN_REFERENCE_SECONDS:g}-{MAX_REFERENCE_SECONDS:g} s "
                                    "of one person speaking, any rate or channels")
        self.use_selected_button = QPushButton("Selected")
        self.use_selected_button.setToolTip("Use the take or library item selected in the window")
        self.clear_button = QToolButton()
        self.clear_button.setText("✕")
        self.clear_button.setToolTip("No reference: the voice follows the description")
        self.buttons = QWidget()
        # Other sources (a Record… button) add themselves to this row; compact, so the panel stays narrow.
        self.buttons_row = QHBoxLayout(self.buttons)
        self.buttons_row.setContentsMargins(0, 0, 0, 0)
        self.buttons_row.setSpacing(4)
        for button in (self.file_button, self.use_selected_button, self.clear_button):
            self.buttons_row.addWidget(button)
        self.buttons_row.addStretch(1)
        for button in (self.file_button, self.use_selected_button):
            button.setStyleSheet(COMPACT)
        self.text_edit = QLineEdit()
        self.text_edit.setObjectName("referenceText")
        self.text_edit.setPlaceholderText("the words spoken in the recording")
        self.status = WrappingLabel()  # a long file name wraps, never widens the panel
        self.status.setObjectName("referenceStatus")

        self.file_button.clicked.connect(self._browse)
        self.use_selected_button.clicked.connect(self.use_selected_requested)
        self.clear_button.clicked.connect(self.clear)
        self.text_edit.textChanged.connect(lambda _t: self.changed.emit())
        self._show_state()

    def rows(self) -> list[tuple[str, QWidget]]:
        """(label, field) rows for a form: where the voice comes from, what it says, and its state."""
        return [("Voice from", self.buttons), ("It says", self.text_edit), ("", self.status)]

    # ---- setting the reference ---------------------------------------------------------------------
    def set_reference_file(self, path: str | Path, source: Optional[str] = None, words: Optional[str] = None) -> bool:
        """Load and check a recording file; False (with the reason shown) if it cannot be used."""
        path = Path(path)
        try:
            clip = load_clip(path)
        except (LoaError, OSError) as exc:
            self.path = path
            self._set(None, source or path.name, str(exc))
            return False
        return self.set_reference_clip(clip, source or path.name, words, path=path)

    def set_reference_clip(self, clip: Clip, source: str = "recording", words: Optional[str] = None,
                           path: Optional[Path] = None) -> bool:
        """Use `clip` as the reference (from a file, a library item or a recorder); `words`, when known,
        fill "It says"; `path`, when the clip is a file, lets the choice survive a restart. Returns whether
        the recording passed the check."""
        try:
            self._speech_seconds = checked_reference_audio(clip, source).seconds
            problem = None
        except InputError as exc:
            problem = str(exc)
        self.path = Path(path) if path is not None else None
        self._set(clip, source, problem)
        if words:
            self.text_edit.setText(words)
        return problem is None

    def clear(self) -> None:
        self.path = None
        self._set(None, "", None)
        self.text_edit.clear()

    def _set(self, clip: Optional[Clip], source: str, problem: Optional[str]) -> None:
        self._clip, self._source, self._problem = clip, source, problem
        self._show_state()
        self.changed.emit()

    def _show_state(self) -> None:
        self.clear_button.setEnabled(bool(self._source))
        self.text_edit.setEnabled(bool(self._source))
        if self._problem:
            self.status.setText(self._problem)
            self.status.setStyleSheet("color: #c0392b;")
        elif self._clip is not None:
            self.status.setText(f"{self._source}: {self._speech_seconds:.1f} s of speech (of {self._clip.seconds:.1f} s "
                                f"at {self._clip.sample_rate} Hz). The words are spoken in this voice.")
            self.status.setStyleSheet("")
        else:
            self.status.setText(f"Optional: a recording ({MIN_REFERENCE_SECONDS:g}-{MAX_REFERENCE_SECONDS:g} s of "
                                "one person speaking) whose voice speaks the words.")
            self.status.setStyleSheet("color: #777;")
        self.status.setToolTip(self.status.text())

    # ---- reading it ----------------------------------------------------------------------------------
    @property
    def has_reference(self) -> bool:
        return bool(self._source)

    @property
    def source(self) -> str:
        return self._source

    @property
    def problem(self) -> Optional[str]:
        return self._problem

    def reference_voice(self) -> Optional[ReferenceVoice]:
        """The checked reference with its words, None when none is picked; InputError when unusable."""
        if not self.has_reference:
            return None
        if self._problem or self._clip is None:
            raise InputError(self._problem or f"the reference {self._source} could not be read.")
        if not self.text_edit.text().strip():
            raise InputError(f"the reference {self._source} needs the words spoken in it: type them under "
                             "“It says”.")
        return ReferenceVoice.from_clip(self._clip, self.text_edit.text(), source=self._source, path=self.path)

    def _browse(self) -> None:
        path = open_file(self, "voice", "Recording of the voice", AUDIO_FILTER)
        if path:
            self.set_reference_file(path)
