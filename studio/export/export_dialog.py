"""File > Export…: one dialog with the file name, the folder and the format, as DAWs' export dialogs have.

Format, bit depth, sample rate and channels each start at "Same as source", at what Settings > Export format says,
or, once the dialog has exported, at what it was left at last time (`remembered`, kept across restarts by
StudioSettings.remember_export, with the folder). A remembered choice this clip cannot take (Opus at 44.1 kHz, MP3
with 6 channels) sets that field back to "Same as source" and says so in one line; a folder that is gone gives the
home folder. The dialog shows what "same as source" means for this clip ("Same as source: FLAC 24-bit, 44.1 kHz,
stereo") and why (a lossy source is written as float WAV), and what will be written with the choices made. A
combination that cannot be written (Opus at 44.1 kHz, FLAC with float samples) is said in one line naming the fix,
and Export stays disabled until it is fixed. The model's licence is in the title and under the format.

    dialog = ExportDialog(parent, clip, provenance, settings, folder)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        export_clip(clip, provenance, dialog.choice(), path=dialog.path(), overwrite=True)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.audio.clip import Clip
from core.audio.formats.containers import CONTAINERS, EXPORT_RATES, SAMPLE_FORMAT_LABELS, channels_label, rate_label
from core.audio.formats.export import (
    FIELD_NAMES,
    ExportSettings,
    container_for_extension,
    export_name,
    fit_choice,
    resolve_for,
)
from core.audio.provenance import Provenance
from core.errors import LoaError
from studio.export.format_picker import DEPTHS

SAME = "Same as source"


class ExportDialog(QDialog):
    def __init__(self, parent: Optional[QWidget], clip: Clip, provenance: Provenance,
                 settings: Optional[ExportSettings] = None, folder: str | Path | None = None,
                 start: Optional[float] = None, end: Optional[float] = None,
                 remembered: Optional[dict] = None):
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.clip, self.provenance, self.start, self.end = clip, provenance, start, end
        settings, recall_notes = self._starting_choice(settings or ExportSettings(), remembered or {})
        folder, folder_note = starting_folder(folder)
        licence = f" — licence {provenance.licence}" if provenance.licence else ""  # seen before the file is used
        self.setWindowTitle(f"Export audio{licence}")

        self.format_combo = self._combo("exportFormat", [(kind.label, name) for name, kind in CONTAINERS.items()],
                                        settings.container)
        self.depth_combo = self._combo("exportDepth", [(SAMPLE_FORMAT_LABELS[d], d) for d in DEPTHS],
                                       settings.sample_format)
        rates = sorted(set(EXPORT_RATES) | {clip.sample_rate} | ({settings.sample_rate} - {None}))
        self.rate_combo = self._combo("exportRate", [(rate_label(r), r) for r in rates], settings.sample_rate)
        self.channels_combo = self._combo("exportChannels", [(channels_label(c).title(), c) for c in (1, 2)],
                                          settings.channels)
        self.name_edit = QLineEdit(objectName="exportFileName")
        self.folder_edit = QLineEdit(str(folder), objectName="exportFolder")
        browse = QPushButton("Browse…", objectName="exportBrowse")
        browse.clicked.connect(self.browse)
        self.recall_label = QLabel(" ".join(filter(None, (*recall_notes, folder_note))), objectName="exportRecallNote")
        self.recall_label.setVisible(bool(self.recall_label.text()))
        self.source_label = QLabel(objectName="exportSameAsSource")
        self.result_label = QLabel(objectName="exportResult")
        for label in (self.recall_label, self.source_label, self.result_label):
            label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("exportButton")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("File name", self.name_edit)
        form.addRow("Folder", folder_row)
        form.addRow("Format", self.format_combo)
        form.addRow("Bit depth", self.depth_combo)
        form.addRow("Sample rate", self.rate_combo)
        form.addRow("Channels", self.channels_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.recall_label)
        layout.addWidget(self.source_label)
        layout.addWidget(self.result_label)
        if provenance.licence:
            layout.addWidget(QLabel(f"Model licence: {provenance.licence} (written into the file's tags)."))
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

        self.format_combo.currentIndexChanged.connect(self._format_changed)
        for combo in (self.format_combo, self.depth_combo, self.rate_combo, self.channels_combo):
            combo.currentIndexChanged.connect(self._update)
        self._extension = ""
        self._source = self._same_as_source()
        self._name_same_as_source()
        self._update()
        self.name_edit.setText(self._suggested_name())

    def _starting_choice(self, settings: ExportSettings, remembered: dict) -> tuple[ExportSettings, list[str]]:
        """Settings > Export format, overridden by what the dialog was left at last time (`remembered`), with any
        field this clip cannot be written with set back to "Same as source" and a line saying so."""
        choice = dataclasses.replace(settings, **remembered)
        kind = CONTAINERS.get(choice.container)
        if kind is not None and kind.lossy:
            choice = dataclasses.replace(choice, sample_format=None)  # the codec has no bit depth
        elif kind is not None and choice.sample_format not in (None, *kind.sample_formats):
            choice = dataclasses.replace(choice, sample_format="pcm24")
        fitted, dropped, reason = fit_choice(self.clip, self.provenance.settings, choice, self.start, self.end)
        if not dropped:
            return fitted, []
        names = [FIELD_NAMES[field] for field in dropped]
        listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
        verb = "is" if len(names) == 1 else "are"
        return fitted, [f"{reason}: {listed} {verb} back at {SAME} for this clip."]

    def _combo(self, name: str, items: list[tuple[str, object]], current) -> QComboBox:
        combo = QComboBox(objectName=name)
        combo.addItem(SAME, None)
        for label, value in items:
            combo.addItem(label, value)
        index = combo.findData(current) if current is not None else 0
        combo.setCurrentIndex(max(index, 0))
        return combo

    # ---- what the choices mean ----------------------------------------------------------------------------
    def choice(self) -> ExportSettings:
        """The user's choices; None fields are "same as source"."""
        container = self.format_combo.currentData()
        depth = self.depth_combo.currentData()
        if container is not None and CONTAINERS[container].lossy:
            depth = None  # the codec has no bit depth (the combo is disabled)
        return ExportSettings(container, depth, self.rate_combo.currentData(), self.channels_combo.currentData())

    def resolved(self):
        """core.audio.formats.export.ResolvedExport for the choices; InputError when they cannot be written."""
        return resolve_for(self.clip, self.provenance, self.choice(), self.start, self.end)

    def _format_changed(self) -> None:
        """A bit depth the new format cannot hold becomes 24-bit (float WAV exported as FLAC keeps full depth)."""
        container, depth = self.format_combo.currentData(), self.depth_combo.currentData()
        kind = CONTAINERS.get(container)
        if kind is not None and not kind.lossy and depth is not None and depth not in kind.sample_formats:
            self.depth_combo.setCurrentIndex(self.depth_combo.findData("pcm24"))

    def showEvent(self, event) -> None:
        self._fit_height()
        super().showEvent(event)

    def _fit_height(self) -> None:
        """Qt sizes a top-level dialog from its labels' plain size hints, not their height for its width: a note that
        wrapped to a second line while shown squeezed the rows above it, and at first show the labels sat in gaps.
        The height is set to what the wrapped lines need at the dialog's width."""
        layout = self.layout()
        if layout is not None and layout.hasHeightForWidth():
            self.resize(self.width(), max(layout.totalHeightForWidth(self.width()),
                                          layout.totalMinimumSize().height()))

    def _update(self) -> None:
        self._show_result()
        if self.isVisible():
            self._fit_height()

    def _show_result(self) -> None:
        container = self.format_combo.currentData()
        lossy = container is not None and CONTAINERS[container].lossy
        self.depth_combo.setEnabled(not lossy)
        self.depth_combo.setToolTip(f"{CONTAINERS[container].label} is lossy: the encoder has no bit depth to choose."
                                    if lossy else "")
        try:
            resolved = self.resolved()
        except LoaError as exc:
            self.source_label.setText(self._source_text())
            self.result_label.setText(f"Cannot export this way: {exc}")
            self.result_label.setStyleSheet("color: #c0392b;")
            self.export_button.setEnabled(False)
            return
        self.source_label.setText(resolved.same_as_source_label)
        writes = f"Writes: {resolved.describe()}."
        self.result_label.setText(" ".join((writes, *resolved.notes)))
        self.result_label.setStyleSheet("")
        self.export_button.setEnabled(True)
        self._follow_extension(resolved.settings.extension)

    def _same_as_source(self):
        try:
            return resolve_for(self.clip, self.provenance, None, self.start, self.end).source
        except LoaError:
            return None

    def _source_text(self) -> str:
        return f"{SAME}: {self._source.describe()}" if self._source is not None else ""

    def _name_same_as_source(self) -> None:
        """Each combo's first item says what it means here: 'Same as source (FLAC)', '(24-bit)', ..."""
        source = self._source
        if source is None:
            return
        depth = SAMPLE_FORMAT_LABELS.get(source.sample_format, "")
        for combo, value in ((self.format_combo, CONTAINERS[source.container].label), (self.depth_combo, depth),
                             (self.rate_combo, rate_label(source.sample_rate)),
                             (self.channels_combo, channels_label(source.channels))):
            combo.setItemText(0, f"{SAME} ({value})" if value else SAME)

    def _suggested_name(self) -> str:
        try:
            settings = self.resolved().settings
        except LoaError:
            settings = resolve_for(self.clip, self.provenance, None, self.start, self.end).settings
        return export_name(self.provenance, settings, self.start, self.end)

    def _follow_extension(self, extension: str) -> None:
        """The file name's extension follows the format (a name typed without one gets it on export)."""
        name = self.name_edit.text()
        if name and container_for_extension(Path(name).suffix) is not None:
            self.name_edit.setText(str(Path(name).with_suffix(extension)))
        self._extension = extension

    def path(self) -> Path:
        name = self.name_edit.text().strip()
        path = Path(self.folder_edit.text().strip() or Path.home()) / name
        if container_for_extension(path.suffix) is None:
            path = path.with_name(path.name + self._extension)
        return path

    # ---- actions ------------------------------------------------------------------------------------------
    def browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Export to", str(self.path()))
        if not chosen:
            return
        chosen = Path(chosen)
        self.folder_edit.setText(str(chosen.parent))
        container = container_for_extension(chosen.suffix)
        if container is not None and container != self.format_combo.currentData():
            self.format_combo.setCurrentIndex(self.format_combo.findData(container))
        self.name_edit.setText(chosen.name)

    def accept(self) -> None:
        if not self.name_edit.text().strip():
            self.result_label.setText("Type a file name to export to.")
            return
        path = self.path()
        typed = container_for_extension(path.suffix)
        if typed is not None and typed != self.resolved().settings.container:  # a typed extension picks the format
            self.format_combo.setCurrentIndex(self.format_combo.findData(typed))
            if not self.export_button.isEnabled():
                return
        if not path.parent.is_dir() and not self._create_folder(path.parent):
            return
        if path.exists() and QMessageBox.question(
                self, "Replace file?", f"{path.name} already exists in {path.parent}. Replace it?") \
                != QMessageBox.StandardButton.Yes:
            return
        super().accept()


    def _create_folder(self, folder: Path) -> bool:
        """A missing folder: offer to create it (True once it exists)."""
        if path_is_blocked(folder):
            self.result_label.setText(f"{folder} cannot be a folder (a file is in the way); choose another with "
                                      "Browse…")
            return False
        if QMessageBox.question(self, "Create folder?", f"The folder {folder} does not exist. Create it?") \
                != QMessageBox.StandardButton.Yes:
            self.result_label.setText(f"The folder {folder} does not exist; create it or choose another with Browse…")
            return False
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.result_label.setText(f"Could not create {folder}: {exc.strerror or exc}; choose another with Browse…")
            return False
        return True


def path_is_blocked(folder: Path) -> bool:
    """A file (not a folder) sits where `folder` or one of its parents should be."""
    return any(p.exists() and not p.is_dir() for p in (folder, *folder.parents))


def starting_folder(folder: str | Path | None) -> tuple[Path, str]:
    """The folder the dialog opens in: the last export's, or the home folder (with a line saying why) when that
    folder is gone (a removed drive, a deleted project folder)."""
    default = Path.home()
    if not folder:
        return default, ""
    if Path(folder).is_dir():
        return Path(folder), ""
    return default, f"The last export folder {folder} is gone: exporting to {default}."


def choice_for_path(choice: ExportSettings, path: Path) -> ExportSettings:
    """The choice with its container following `path`'s extension (a lossy one drops the bit depth)."""
    container = container_for_extension(path.suffix)
    if container is None or container == choice.container:
        return choice
    depth = None if CONTAINERS[container].lossy else choice.sample_format
    return dataclasses.replace(choice, container=container, sample_format=depth)
