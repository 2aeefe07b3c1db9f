"""The model manager's "Add checkpoint file…": an original-format .pth converted once into the store on a worker
thread (the window stays responsive, progress shows), then offered in the picker like a local folder."""

from __future__ import annotations

from hf_cache import install_into_cache
from tiny_original_audioldm import build_tiny_checkpoint, save_tokenizer

from core.models.imported import CLAP_TOKENIZER_REPO, find_converted


def test_a_checkpoint_file_is_converted_off_the_gui_thread_and_offered(qtbot, make_window, settings, tmp_path,
                                                                         hf_home):
    install_into_cache(save_tokenizer(tmp_path / "tok"), CLAP_TOKENIZER_REPO, hf_home)
    pth = build_tiny_checkpoint(tmp_path / "my_48k.pth")
    window = make_window()
    dialog = window.open_model_manager()
    fractions = []
    with qtbot.waitSignal(dialog.folder_added, timeout=180_000) as added:
        assert dialog.add_local_folder(str(pth))  # a .pth given where a folder is: converted, then added
        assert dialog.importing is not None and dialog.importing.isRunning()  # the GUI thread returned at once
        assert dialog.progress_bar.isVisible() and not dialog.add_file_button.isEnabled()
        dialog.importing.progress.connect(lambda stage, f: fractions.append(f))
    folder = added.args[0]
    assert folder == str(find_converted(pth)) and settings.local_models == [folder]
    assert fractions and fractions[-1] == 1.0
    qtbot.waitUntil(lambda: dialog.importing is None, timeout=10_000)
    rows = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert folder in rows and dialog.add_file_button.isEnabled()
    picker = window.generation_panel.model_combo
    index = picker.findData(folder)
    assert index >= 0 and "my_48k.pth (converted)" in picker.itemText(index)


def test_a_damaged_checkpoint_file_is_refused_in_the_status_line(qtbot, make_window, settings, tmp_path):
    bad = tmp_path / "half.pth"
    bad.write_bytes(b"PK\x03\x04 not a whole zip")
    dialog = make_window().open_model_manager()
    dialog.add_checkpoint_file(str(bad))
    qtbot.waitUntil(lambda: dialog.importing is None, timeout=60_000)
    text = dialog.status.text()
    assert "half.pth is damaged or cut short" in text and "\n" not in text and settings.local_models == []
