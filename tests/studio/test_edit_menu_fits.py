"""The Edit menu fits a 1024x640 screen: rarely used items sit in submenus (Fade ▸, Normalise ▸, Channels ▸),
every edit is still reachable from the menu."""

from PySide6.QtWidgets import QMenu


def _all_actions(menu: QMenu) -> list:
    found = []
    for action in menu.actions():
        if action.menu() is not None:
            found += _all_actions(action.menu())
        elif not action.isSeparator():
            found.append(action)
    return found


def test_the_edit_menu_fits_a_640_px_high_screen(make_window):
    window = make_window()
    window.resize(1024, 640)
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    edit.ensurePolished()
    height = edit.sizeHint().height()
    print(f"Edit menu: {height} px")
    assert height <= 640 - 40, f"the Edit menu is {height} px tall"  # room for the title and menu bars
    submenus = {a.text().replace("&", "") for a in edit.actions() if a.menu() is not None}
    assert {"Fade", "Normalise", "Channels"} <= submenus, submenus
    reachable = {a.objectName() for a in _all_actions(edit)}
    keys = set(window.editor.actions.by_key)
    from studio.editor.operation_table import OPERATIONS
    assert set(OPERATIONS) <= reachable, set(OPERATIONS) - reachable
    assert {"edit.undo", "edit.redo", "edit.select_all", "gen.regenerate", "gen.extend_loop"} <= reachable
    assert keys  # the editor built its actions into this window
