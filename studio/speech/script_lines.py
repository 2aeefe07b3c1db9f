"""The script's lines as a table: each line's words and voice, its take (or what its job is doing), Play and Re-roll."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QPushButton, QTableWidget, QTableWidgetItem, QWidget

from studio.speech.script_session import LineState, ScriptSession

PLAY_COLUMN, REROLL_COLUMN = 2, 3


class ScriptLinesTable(QTableWidget):
    line_selected = Signal(object)  # LineState with a take: show it
    play_requested = Signal(object)  # LineState with a take
    reroll_requested = Signal(int)  # line index

    def __init__(self, session: ScriptSession, parent: Optional[QWidget] = None) -> None:
        super().__init__(0, 4, parent)
        self.setObjectName("scriptLines")
        self.session = session
        self.setHorizontalHeaderLabels(["Line", "Take", "", ""])
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setMinimumHeight(50)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, PLAY_COLUMN, REROLL_COLUMN):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.itemSelectionChanged.connect(self._on_row_selected)
        session.line_changed.connect(self.show_line)

    def rebuild(self) -> None:
        self.setRowCount(len(self.session.states))
        for index in range(len(self.session.states)):
            self.show_line(index)

    def show_line(self, index: int) -> None:
        if index >= self.rowCount():
            self.setRowCount(len(self.session.states))
        state = self.session.states[index]
        line = state.line
        tag = f"[{line.voice_name}] " if line.voice_name else ""
        words = QTableWidgetItem(f"{index + 1}  {tag}{line.text}")  # spoken lines count; @voice lines do not
        words.setToolTip(f"Spoken line {index + 1} (line {line.number} of the script): {line.text}\n"
                         f"Voice: {line.voice}")
        self.setItem(index, 0, words)
        take = QTableWidgetItem(take_text(state))
        take.setToolTip(state.error or take_text(state))
        if state.status == "failed":
            take.setForeground(QColor("#c0392b"))
        self.setItem(index, 1, take)
        for column, label in ((PLAY_COLUMN, "Play"), (REROLL_COLUMN, "Re-roll")):
            button = self.cellWidget(index, column)
            if button is None:
                button = QPushButton(label)
                button.setStyleSheet("padding: 1px 6px;")
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                button.clicked.connect(lambda _c=False, b=button, col=column: self._row_button(b, col))
                self.setCellWidget(index, column, button)
            button.setEnabled(state.result is not None if column == PLAY_COLUMN else
                              self.session.settings is not None and state.job_id is None)

    def _row_button(self, button: QPushButton, column: int) -> None:
        index = next((r for r in range(self.rowCount()) if self.cellWidget(r, column) is button), None)
        if index is None or index >= len(self.session.states):
            return
        if column == PLAY_COLUMN:
            self.play_requested.emit(self.session.states[index])
        else:
            self.reroll_requested.emit(index)

    def _on_row_selected(self) -> None:
        rows = self.selectionModel().selectedRows()
        if rows and rows[0].row() < len(self.session.states):
            state = self.session.states[rows[0].row()]
            if state.result is not None:
                self.line_selected.emit(state)


def take_text(state: LineState) -> str:
    """A line's take as the table shows it: its length and seed, what its job is doing, or its status."""
    if state.job_id is not None:
        return state.detail or state.status
    if state.result is not None:
        best = state.result.best
        note = f" ({state.status})" if state.status in ("failed", "cancelled") else ""
        return f"{best.clip.seconds:.1f} s · seed {best.seed}{note}"
    return state.status
