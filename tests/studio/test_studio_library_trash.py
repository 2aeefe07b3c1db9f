"""Trash view, confirmations before anything is lost, cards that follow the library, search by what a take is, and
the silent-take mark (issue 9)."""

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton
from studio_helpers import tone_clip

from core.audio.clip import Clip
from core.library.store import Library
from studio.shell.clip_entry import ClipEntry


def answer_next_dialog(button_name: str, seen: list):
    """Click `button_name` ("confirmAction" or Cancel) in the next modal question, as a user would."""
    def answer():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(box.text())
        if button_name == "cancel":
            box.button(QMessageBox.StandardButton.Cancel).click()
        else:
            box.findChild(QPushButton, button_name).click()
    QTimer.singleShot(0, answer)


def add(library, prompt, **kw):
    return library.add(tone_clip(), prompt=prompt, mode="sound", model="m", licence="CC-BY-NC-SA-4.0", seed=1,
                       settings={"prompt": prompt}, **kw)


def test_empty_trash_asks_first_and_the_trash_view_restores_and_deletes_for_good(make_window):
    library = Library()
    a, b, c = (add(library, p) for p in ("hinge creak", "wind gust", "thunder roll"))
    window = make_window(library=library)
    panel = window.library_panel
    library.trash([a.id, b.id])
    panel.library_changed()
    assert panel.trash_toggle.text() == "Trash (2)"

    seen = []
    answer_next_dialog("cancel", seen)
    window.empty_trash()
    assert seen and "2 items" in seen[0] and library.count(trashed=True) == 2  # cancelled: nothing lost

    panel.trash_toggle.setChecked(True)
    assert {i.id for i in panel.items()} == {a.id, b.id} and panel.restore_button.isVisible()
    panel.select_id(a.id)
    panel.restore_selected()
    assert not library.get(a.id).trashed and [i.id for i in panel.items()] == [b.id]
    panel.select_id(b.id)
    answer_next_dialog("confirmAction", seen)
    panel.purge_selected()
    assert library.count(trashed=True) == 0 and not b.audio_path.exists() and a.audio_path.exists()
    panel.trash_toggle.setChecked(False)
    assert {i.id for i in panel.items()} == {a.id, c.id}


def test_deleting_a_kept_take_asks_and_its_card_no_longer_says_kept(make_window):
    library = Library()
    window = make_window(library=library)
    window.settings.store_all_generations = False
    entry = ClipEntry(tone_clip(), prompt="door slam", mode="sound", model="m", licence="l", seed=5,
                      settings={"prompt": "door slam"})
    window.candidates.show_entries([entry])
    window.keep(entry)
    card = window.candidates.cards[0]
    assert card.keep_button.text() == "Kept"
    panel = window.library_panel
    panel.select_id(entry.library_id)

    seen = []
    answer_next_dialog("cancel", seen)
    panel.delete_selected()
    assert seen and not library.get(entry.library_id).trashed  # asked; cancelled

    answer_next_dialog("confirmAction", seen)
    panel.delete_selected()
    assert library.get(entry.library_id).trashed
    assert card.keep_button.text() == "Keep" and card.keep_button.isEnabled()
    window.keep(entry)  # keeping it again brings it back from the trash
    assert not library.get(entry.library_id).trashed and card.keep_button.text() == "Kept"


def test_plain_takes_go_to_the_trash_without_a_question(make_window):
    library = Library()
    item = add(library, "unkept rumble")
    window = make_window(library=library)
    window.library_panel.select_id(item.id)
    window.library_panel.delete_selected()  # no dialog: a modal box here would block the test
    assert library.get(item.id).trashed


def test_library_search_finds_spoken_words_and_source_files(qtbot, make_window):
    library = Library()
    spoken = library.add(tone_clip(), prompt="a calm narrator", mode="speech", model="anhnct/audioldm2_gigaspeech",
                         licence="l", seed=2, settings={"text": "This is episode 12 of the show."})
    cont = library.add(tone_clip(), prompt="", mode="continue", model="m", licence="l", seed=3,
                       settings={"source": "/tmp/drum_intro.wav", "operation": "continue"})
    panel = make_window(library=library).library_panel
    panel.search_edit.setText("episode")
    panel.refresh()
    assert [i.id for i in panel.items()] == [spoken.id]
    assert panel.list.item(0).text().startswith("This is episode 12")
    panel.search_edit.setText("drum_intro")
    panel.refresh()
    assert [i.id for i in panel.items()] == [cont.id] and "(no prompt)" not in panel.list.item(0).text()


def test_a_silent_take_is_marked_on_its_card(make_window):
    window = make_window()
    silent = ClipEntry(Clip(np.full(16_000, 1e-5, np.float32), 16_000), prompt="x", mode="sound", model="m",
                       licence="l", seed=1)
    loud = ClipEntry(tone_clip(), prompt="y", mode="sound", model="m", licence="l", seed=2)
    window.candidates.show_entries([silent, loud])
    first, second = window.candidates.cards
    assert first.silent_mark.isVisibleTo(first) and "Silent take" in first.silent_mark.text()
    assert not second.silent_mark.isVisibleTo(second)


def test_a_jobs_new_takes_go_on_top_of_the_list_without_rebuilding_it(make_window):
    """A finished job adds rows for its takes (those the current filters show); the rows already listed stay the
    same objects, so the GUI thread does not re-read a large library after every job."""
    library = Library()
    a, b = add(library, "hinge creak"), add(library, "wind gust")
    window = make_window(library=library)
    panel = window.library_panel
    panel.library_changed()
    kept_rows = [panel.list.item(i) for i in range(panel.list.count())]
    new = [add(library, "thunder roll"), add(library, "thunder clap")]
    panel.items_added([t.id for t in new])
    assert [i.id for i in panel.items()] == [new[1].id, new[0].id, b.id, a.id]  # newest first, as a refresh has it
    assert [panel.list.item(i) for i in (2, 3)] == kept_rows
    panel.refresh()
    assert [i.id for i in panel.items()] == [new[1].id, new[0].id, b.id, a.id]

    panel.search_edit.setText("thunder")  # a filtered view shows only the new takes it matches
    other = library.add(tone_clip(), prompt="door slam", mode="music", model="other-model", licence="x", seed=2,
                        settings={"prompt": "door slam"})
    panel.items_added([other.id])
    assert other.id not in [i.id for i in panel.items()]
    assert panel.model_filter.findData("other-model") > 0 and panel.mode_filter.findData("music") > 0

    panel.search_edit.setText("")
    panel.trash_toggle.setChecked(True)
    panel.items_added([add(library, "rain").id])  # the trash view gains nothing
    assert panel.items() == []
