"""The editor's actions: Edit menu, Transport menu, edit toolbar and Audacity's shortcuts, built from one table.

Edit shortcuts (Ctrl+X/C/V, Delete, Ctrl+T, Ctrl+L, Ctrl+A, Home/End, Ctrl+1/2/3) act while the editor (transport,
toolbar or waveform) has the focus, so Delete in the library still trashes library items and Home/End still move
between candidate cards. Undo/Redo, Space, Shift+Space, Ctrl+O and Ctrl+S work anywhere in the window; Ctrl+Z undoes
a library delete when the library has the focus (or the editor has nothing to undo).
"""

from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar, QWidget

from studio.editor.operation_table import FADES, GROUPS, OPERATIONS, EditOperation

# Edit-menu items that live in a submenu (title), so the menu fits a 1024x640 screen.
SUBMENU_OF = {"edit.normalize_peak": "N&ormalise", "edit.normalize_loudness": "N&ormalise",
              "edit.to_mono": "Cha&nnels", "edit.to_stereo": "Cha&nnels"}

ZOOM_TO_SELECTION = "Ctrl+2"  # Audacity's Ctrl+E is Export here; Ctrl+2 sits between zoom in (1) and out (3)

# (keys, what) for Help > Keyboard shortcuts and docs/window.md.
SHORTCUT_TABLE = (
    ("Space", "play / stop: the selection, or from the cursor"),
    ("Shift+Space", "loop the selection (or from the cursor) until stopped"),
    ("Ctrl+Z", "undo the last edit (in the library: undo the last delete)"),
    ("Ctrl+Y, Ctrl+Shift+Z", "redo"),
    ("Ctrl+X / Ctrl+C / Ctrl+V", "cut / copy / paste (paste at the cursor or over the selection)"),
    ("Delete", "delete the selection (in the library: move items to the trash)"),
    ("Ctrl+A", "select the whole clip"),
    ("Ctrl+T", "trim to the selection"),
    ("Ctrl+L", "silence the selection"),
    ("Home / End", "cursor to the start / end of the clip"),
    ("Ctrl+1 / Ctrl+3", "zoom in / out"),
    (ZOOM_TO_SELECTION, "zoom to the selection (Ctrl+E is Export)"),
    ("Ctrl+O", "open audio files in the editor and the library (or drop them on the window)"),
    ("Ctrl+S", "save the edited clip as a new version in the library"),
    ("Ctrl+Shift+R", "regenerate the selection"),
)


def shortcuts_text() -> str:
    return "Editor:\n" + "\n".join(f"{keys}: {what}" for keys, what in SHORTCUT_TABLE)


class EditorActions:
    """Creates every editor QAction and puts them in menus and the toolbar. `by_key[name]` finds one."""

    def __init__(self, window, editor, scope: QWidget) -> None:
        self.window, self.editor, self.scope = window, editor, scope
        self.by_key: dict[str, QAction] = {}

    def action(self, key: str, text: str, slot: Callable, shortcut: str | tuple = "", scoped: bool = False,
               tip: str = "") -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(key)
        if shortcut:
            keys = shortcut if isinstance(shortcut, tuple) else (shortcut,)
            action.setShortcuts([QKeySequence(k) for k in keys])
            if scoped:  # only while the editor has the focus
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                self.scope.addAction(action)
            else:
                self.window.addAction(action)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.by_key[key] = action
        return action

    def operation(self, op: EditOperation) -> QAction:
        return self.action(op.key, op.label, lambda: self.editor.run_operation(op), op.shortcut, scoped=True,
                           tip=op.tip)

    # ---- menus -----------------------------------------------------------------------------------------
    def build_edit_menu(self, menu: QMenu) -> None:
        ed = self.editor
        first = menu.actions()[0] if menu.actions() else None
        items: list[Optional[QAction]] = [
            self.action("edit.undo", "&Undo", ed.undo, "Ctrl+Z"),
            self.action("edit.redo", "&Redo", ed.controller.redo, ("Ctrl+Y", "Ctrl+Shift+Z")),
            None]
        # Rarely used items sit in submenus so the menu fits a 640 px high screen (it was 654 px offscreen).
        submenus: dict[str, QMenu] = {}
        for group in GROUPS:
            if group is FADES:
                items.append(self._fade_menu())
            else:
                for op in group:
                    title = SUBMENU_OF.get(op.key)
                    if title is None:
                        items.append(self.operation(op))
                        continue
                    if title not in submenus:
                        submenus[title] = self._submenu(title)
                        items.append(submenus[title])
                    submenus[title].addAction(self.operation(op))
            items.append(None)
        items.append(self.action("edit.select_all", "Select &all", ed.controller.select_all, "Ctrl+A", scoped=True))
        snap = self.action("edit.snap", "Snap selection to &zero crossings", lambda: None)
        snap.setCheckable(True)
        snap.toggled.connect(lambda on: setattr(ed.controller, "snap_to_zero", on))
        items += [snap, None]
        loop = self._submenu("&Loop")
        loop.addAction(self.action("gen.extend_loop", "E&xtend loop…", ed.generative.extend_loop))
        loop.addAction(self.action("gen.close_loop", "Cl&ose loop…", ed.generative.close_loop))
        items += [self.action("gen.regenerate", "Re&generate selection…", ed.generative.regenerate, "Ctrl+Shift+R"),
                  self.action("gen.continue", "Continue from &here…", ed.generative.continue_here), loop,
                  self.action("gen.transform", "Trans&form selection…", ed.generative.transform), None]
        for item in items:
            if item is None:
                menu.insertSeparator(first)
            elif isinstance(item, QMenu):
                menu.insertMenu(first, item)
            else:
                menu.insertAction(first, item)

    def _submenu(self, title: str) -> QMenu:
        menu = QMenu(title, self.window)
        menu.setObjectName(title.replace("&", "").lower() + "Menu")
        return menu

    def _fade_menu(self) -> QMenu:
        menu = self._submenu("Fad&e")
        for direction in ("in", "out"):
            if direction == "out":
                menu.addSeparator()
            for op in OPERATIONS.values():
                if op.op == f"fade_{direction}":
                    menu.addAction(self.operation(op))  # "Fade in (s-curve)": the toolbar shows the linear one
        return menu

    def build_transport_menu(self, menu: QMenu) -> None:
        ed, view = self.editor, self.editor.view
        menu.addAction(self.action("transport.play", "&Play / stop", ed.playback.toggle))
        menu.addAction(self.action("transport.loop", "&Loop selection", ed.playback.play_looped, "Shift+Space"))
        menu.addAction(self.action("transport.from_cursor", "Play from the &cursor",
                                   lambda: ed.playback.play(use_selection=False)))
        menu.addAction(self.action("transport.selection", "Play the &selection",
                                   lambda: ed.playback.play(selection_only=True)))
        menu.addSeparator()
        menu.addAction(self.action("view.home", "Cursor to &start", lambda: ed.cursor_to(0.0), "Home", scoped=True))
        menu.addAction(self.action("view.end", "Cursor to &end", lambda: ed.cursor_to(view.duration), "End",
                                   scoped=True))
        menu.addAction(self.action("view.zoom_in", "Zoom &in", lambda: view.zoom(2.0), "Ctrl+1", scoped=True))
        menu.addAction(self.action("view.zoom_out", "Zoom &out", lambda: view.zoom(0.5), "Ctrl+3", scoped=True))
        menu.addAction(self.action("view.zoom_selection", "Zoom to &selection", view.zoom_to_selection,
                                   ZOOM_TO_SELECTION, scoped=True))
        menu.addAction(self.action("view.fit", "&Fit the clip", view.fit))
        menu.addSeparator()
        menu.addAction(self.action("transport.tempo", "&Tempo…", ed.ask_tempo))

    def build_file_menu(self, menu: QMenu) -> None:
        ed = self.editor
        first = menu.actions()[0] if menu.actions() else None
        for item in (self.action("file.open", "&Open audio…", ed.open_files_dialog, "Ctrl+O"),
                     self.action("file.save_version", "&Save as new version", ed.controller.save_version, "Ctrl+S"),
                     self.action("file.discard", "&Discard edits…", ed.confirm_discard),
                     None):
            if item is None:
                menu.insertSeparator(first)
            else:
                menu.insertAction(first, item)

    def build_toolbar(self) -> QToolBar:
        bar = QToolBar("Edit")
        bar.setObjectName("editToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.setStyleSheet("QToolButton { padding: 1px 3px; }")
        short = {"edit.undo": "Undo", "edit.redo": "Redo", "gen.regenerate": "Regenerate", "gen.continue": "Continue",
                 "gen.transform": "Transform"}
        for key in ("edit.undo", "edit.redo", None, "edit.cut", "edit.copy", "edit.paste", "edit.delete", None,
                    "edit.trim", "edit.silence", "edit.fade_in.linear", "edit.fade_out.linear", None, "edit.gain",
                    "edit.normalize_peak", "edit.normalize_loudness", "edit.reverse", None, "gen.regenerate",
                    "gen.continue", "gen.transform"):
            if key is None:
                bar.addSeparator()
                continue
            action = self.by_key[key]
            op = OPERATIONS.get(key)
            button_text = short.get(key) or (op.toolbar if op is not None else action.text())
            bar.addAction(action)
            button = bar.widgetForAction(action)
            button.setText(button_text)
            button.setObjectName(f"tool-{key}")
            tip = action.toolTip() or action.text().replace("&", "")
            if action.shortcut().toString():
                tip += f" ({action.shortcut().toString()})"
            button.setToolTip(tip)
        return bar

    def refresh(self) -> None:
        """Enable what can run now: edits need a clip (and no edit in flight); undo/redo need history."""
        ctl = self.editor.controller
        has_clip = ctl.clip() is not None and not ctl.busy
        for key, action in self.by_key.items():
            if key.startswith(("edit.", "gen.", "view.", "transport.")) and key != "edit.snap":
                action.setEnabled(has_clip)
        # Undo has something to undo: an edit, or a library delete (see Editor.undo)
        self.by_key["edit.undo"].setEnabled(ctl.can_undo or self.editor.library_can_undo())
        self.by_key["edit.redo"].setEnabled(ctl.can_redo)
        self.by_key["edit.paste"].setEnabled(has_clip and ctl.clipboard is not None)
        self.by_key["file.save_version"].setEnabled(ctl.has_unsaved_edits)
        self.by_key["file.discard"].setEnabled(ctl.session is not None and ctl.session.position > 0)
