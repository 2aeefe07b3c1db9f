"""The window works from 1024x640 up: nothing forces it wider, and every candidate card shows its buttons whole
(issue 9, item 6)."""

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication

from studio_helpers import tone_clip

from studio.clip_entry import ClipEntry


def takes(n=4):
    return [ClipEntry(tone_clip(220.0 * (i + 1)), prompt=f"take {i}", mode="sound", model="m", licence="l", seed=i)
            for i in range(n)]


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
    panel = window.generation_panel
    assert panel.generate_button.isVisibleTo(window)
    assert global_rect(panel.generate_button.parentWidget().parentWidget()).width() >= 300  # settings stay usable
