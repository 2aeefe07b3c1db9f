"""The window works from 1024x640 up: nothing forces it wider, and every candidate card shows its buttons whole
(issue 9, item 6)."""

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication, QScrollArea
from studio_helpers import steady, tone_clip

from core.audio.clip import Clip
from studio.shell.clip_entry import ClipEntry


def takes(n=4):
    """Takes of which the second is near-silent: its card carries the extra "Silent take" line."""
    clips = [tone_clip(220.0 * (i + 1)) for i in range(n)]
    clips[1] = Clip(clips[1].samples * 0.003, clips[1].sample_rate)
    return [ClipEntry(clip, prompt=f"take {i}", mode="sound", model="m", licence="l", seed=i)
            for i, clip in enumerate(clips)]


def global_rect(widget) -> QRect:
    return QRect(widget.mapToGlobal(QPoint(0, 0)), widget.size())


@pytest.mark.parametrize("size", [(1024, 640), (1600, 1000)])
def test_every_card_shows_its_buttons_at_the_smallest_supported_size(make_window, size):
    window = make_window()
    window.resize(*size)
    window.candidates.show_entries(takes())
    QApplication.processEvents()
    assert (window.width(), window.height()) == size  # no child forces the window bigger
    view = window.candidates.viewport()
    assert view.width() >= window.candidates.cards[0].sizeHint().width()  # at least one whole card column
    for card in window.candidates.cards:
        window.candidates.ensureWidgetVisible(card)
        QApplication.processEvents()
        for button in (card.play_button, card.more_button, card.keep_button):
            assert button.isVisibleTo(window)
            inside = global_rect(view).contains(global_rect(button))
            assert inside, (f"{button.text()} of card {card.entry.seed} is clipped at {size}: "
                            f"{global_rect(button)} not in {global_rect(view)}")
    assert window.candidates.cards[1].silent_mark.isVisibleTo(window)
    panel = window.generation_panel
    assert panel.generate_button.isVisibleTo(window)
    assert global_rect(panel.generate_button.parentWidget().parentWidget()).width() >= 300  # settings stay usable


def test_the_mode_tabs_stay_in_view_in_every_mode_at_1024x640(make_window):
    window = make_window()
    window.resize(1024, 640)
    panel = window.generation_panel
    tabs = panel.mode_tabs
    for mode in [m.name for m in panel.modes]:
        panel.set_mode(mode)
        QApplication.processEvents()
        column = global_rect(window.centralWidget().widget(0))  # the visible settings column
        for index in range(tabs.count()):
            tab = QRect(tabs.mapToGlobal(tabs.tabRect(index).topLeft()), tabs.tabRect(index).size())
            assert column.contains(tab), f"tab {tabs.tabText(index)} is out of view in {mode} mode"


def test_a_long_model_folder_in_the_library_does_not_widen_the_window(make_window):
    from core.library.store import Library

    library = Library()
    folder = "/home/someone/models/" + "a-very-long-local-model-folder-name-" * 3
    library.add(tone_clip(), prompt="x", mode="sound", model=folder, licence="l", seed=1)
    window = make_window(library=library)
    window.resize(1024, 640)
    window.library_panel.library_changed()
    QApplication.processEvents()
    assert window.width() == 1024 and window.minimumSizeHint().width() <= 1024
    assert window.library_panel.model_filter.itemData(1) == folder  # filtering still uses the full path


def test_a_wide_window_shows_each_modes_fields_without_a_side_scroll(qtbot, make_window):
    window = make_window()
    window.resize(1600, 1000)
    panel = window.generation_panel
    scroll = window.centralWidget().widget(0).findChild(QScrollArea)
    for mode in [m.name for m in panel.modes]:
        panel.set_mode(mode)
        side_scroll = steady(qtbot, scroll.horizontalScrollBar().isVisible)  # fitted after the rows are shown
        assert not side_scroll, f"{mode} needs a side scroll at 1600x1000"
