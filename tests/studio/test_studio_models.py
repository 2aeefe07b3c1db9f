"""The model manager: installed checkpoints with size and licence, local folders, download progress and
cancel plumbing, and a clear message when a download cannot run."""

import threading

import pytest
from hf_cache import install_into_cache
from PySide6.QtCore import Qt

from core.errors import Cancelled
from studio.models.choices import model_choices
from studio.models.model_manager import ModelManagerDialog, progress_tqdm_class


def test_catalog_and_installed_models_with_size_and_licence(qtbot, settings, tiny_model_dir, hf_home):
    install_into_cache(tiny_model_dir, "cvssp/audioldm2-music", hf_home)
    dialog = ModelManagerDialog(settings)
    qtbot.addWidget(dialog)
    rows = {dialog.table.item(r, 0).text(): [dialog.table.item(r, c).text() for c in range(5)]
            for r in range(dialog.table.rowCount())}
    assert rows["cvssp/audioldm2-music"][1:3] == ["music", "yes"]
    assert rows["cvssp/audioldm2-music"][4] == "CC-BY-NC-SA-4.0"
    assert rows["cvssp/audioldm2-large"][2:4] == ["no", "6.0 GB"]
    assert "No model is installed" not in dialog.status.text()


def test_an_installed_hub_model_serves_the_music_mode_and_hides_the_first_run_note(make_window, tiny_model_dir,
                                                                                    hf_home):
    install_into_cache(tiny_model_dir, "cvssp/audioldm2-music", hf_home)
    window = make_window()
    assert not window.first_run_banner.isVisible()
    window.generation_panel.set_mode("music")
    assert window.generation_panel.model_combo.currentData() == "cvssp/audioldm2-music"
    assert window.generation_panel.model_note.text().startswith("Licence: CC-BY-NC-SA-4.0")  # no "not installed"
    assert "non-commercial" in window.generation_panel.model_note.text()


def test_adding_a_local_folder_checks_it_and_offers_it_in_the_picker(qtbot, make_window, settings, tiny_model_dir,
                                                                     tmp_path):
    window = make_window()
    dialog = window.open_model_manager()
    broken = tmp_path / "not-a-model"
    broken.mkdir()
    assert not dialog.add_local_folder(str(broken))
    assert "model_index.json is missing" in dialog.status.text()
    assert settings.local_models == []

    with qtbot.waitSignal(dialog.models_changed):
        assert dialog.add_local_folder(str(tiny_model_dir))
    assert settings.local_models == [str(tiny_model_dir.resolve())]
    picker = window.generation_panel.model_combo
    assert picker.findData(str(tiny_model_dir.resolve())) >= 0
    assert not window.first_run_banner.isVisible()
    local = next(c for c in model_choices(settings.local_models) if c.local)
    assert local.installed and local.size_bytes > 0 and local.task == "any"

    dialog.select_model(str(tiny_model_dir.resolve()))
    dialog.remove_selected_folder()
    assert settings.local_models == [] and tiny_model_dir.is_dir()  # files untouched


def test_a_download_that_cannot_run_says_why_in_one_line(qtbot, settings):
    dialog = ModelManagerDialog(settings)  # HF_HUB_OFFLINE=1 in the test run: no hub
    qtbot.addWidget(dialog)
    dialog.select_model("cvssp/audioldm2")
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    assert dialog.download is not None and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.download is None, timeout=60_000)
    text = dialog.status.text()
    assert "Cannot download cvssp/audioldm2" in text and "\n" not in text
    assert dialog.download_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_the_progress_adapter_reports_bytes_and_stops_on_cancel():
    seen, cancel = [], threading.Event()
    bar_class = progress_tqdm_class(lambda done, total: seen.append((done, total)), cancel)
    files = bar_class(total=3, unit="it")  # the file counter: not reported as bytes
    files.update(1)
    data = bar_class(total=1000, unit="B", initial=100)
    data.update(400)
    data.total = 2000  # huggingface_hub grows the total as it learns file sizes
    data.update(500)
    assert seen == [(500, 1000), (1000, 2000)]
    cancel.set()
    with pytest.raises(Cancelled):
        data.update(1)


@pytest.fixture
def hub(tiny_model_dir, monkeypatch):
    """The tiny pipeline served as cvssp/audioldm2 by the loopback fake hub (tests/fake_hub.py)."""
    from fake_hub import FakeHub, Repo, point_client_at

    card = {"README.md": b"---\nlicense: cc-by-nc-sa-4.0\n---\n# tiny AudioLDM 2 for tests\n"}
    with FakeHub([Repo.from_folder("cvssp/audioldm2", tiny_model_dir, card)]) as server:
        point_client_at(server, monkeypatch)
        yield server


def test_download_from_the_dialog_shows_byte_progress_and_installs_the_model(qtbot, make_window, hub):
    window = make_window()
    assert window.first_run_banner.isVisible()
    dialog = window.open_model_manager()
    dialog.select_model("cvssp/audioldm2")
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    progress = []
    dialog.download.progress.connect(lambda done, total: progress.append((done, total)))
    with qtbot.waitSignal(dialog.models_changed, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: dialog.download is None)
    assert "Installed in" in dialog.status.text()
    assert progress and progress[-1][0] == progress[-1][1] > 0
    row = next(r for r in range(dialog.table.rowCount()) if dialog.table.item(r, 0).text() == "cvssp/audioldm2")
    assert dialog.table.item(row, 2).text() == "yes"
    assert not window.first_run_banner.isVisible()  # the window now offers generation
    assert "not installed" not in window.generation_panel.model_combo.currentText()


def test_cancelling_a_download_stops_it_and_the_next_one_completes(qtbot, settings, hub):
    dialog = ModelManagerDialog(settings)
    qtbot.addWidget(dialog)
    dialog.select_model("cvssp/audioldm2")
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)  # before the first byte arrives
    qtbot.waitUntil(lambda: dialog.download is None, timeout=60_000)
    assert dialog.status.text().startswith("Download cancelled")
    assert not any(c.installed for c in dialog.choices)

    with qtbot.waitSignal(dialog.models_changed, timeout=120_000):
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    assert any(c.spec == "cvssp/audioldm2" and c.installed for c in dialog.choices)


def test_the_table_fills_the_dialog_and_a_long_folder_is_elided_not_widened(qtbot, settings, tiny_model_dir, tmp_path):
    """No row numbers, no empty area beside the table, and a deep local folder does not push the other columns
    out of view (it is elided, full path in the tooltip)."""
    deep = tmp_path / ("a-very-long-folder-name-for-sound-design-projects" * 3) / "checkpoints" / "tiny-audioldm2"
    deep.parent.mkdir(parents=True)
    deep.symlink_to(tiny_model_dir.resolve(), target_is_directory=True)
    settings.local_models = [str(deep)]
    dialog = ModelManagerDialog(settings)
    qtbot.addWidget(dialog)
    dialog.resize(820, 380)
    dialog.show()
    qtbot.waitExposed(dialog)
    table = dialog.table
    assert not table.verticalHeader().isVisible()
    header = table.horizontalHeader()
    columns = sum(header.sectionSize(c) for c in range(table.columnCount()))
    assert abs(columns - table.viewport().width()) <= 2, (columns, table.viewport().width())
    assert table.horizontalScrollBar().maximum() == 0
    row = next(r for r in range(table.rowCount()) if dialog.choices[r].spec.endswith("tiny-audioldm2")
               and "a-very-long" in dialog.choices[r].spec)
    assert table.item(row, 0).toolTip() == dialog.choices[row].spec
    assert header.sectionSize(0) < 820 and header.sectionSize(4) > 0


def test_switching_among_three_models_keeps_the_budget_and_the_manager_shows_what_is_loaded(
        tiny_window, qtbot, tiny_model_dir, tmp_path, monkeypatch):
    """Sound -> Music -> Speech-like on three models under a budget of two: the first is unloaded, and the model
    manager lists the two that are resident."""
    from core.generation.engine_cache import estimated_bytes
    from core.generation.requests import GenerationRequest
    from studio.jobs.job_queue import JobSpec

    window = tiny_window
    monkeypatch.setenv("LOA_PRECISION", "fp32")  # resident size = file size (bf16 stages would halve it)
    folders = []
    for name in ("first-model", "second-model", "third-model"):
        (tmp_path / name).symlink_to(tiny_model_dir, target_is_directory=True)
        folders.append(str(tmp_path / name))
    size = estimated_bytes(window.jobs.engines.get(folders[0]))
    monkeypatch.setenv("LOA_MODEL_MEMORY", str(int(2.5 * size)))
    for folder in folders:
        job = window.jobs.submit(JobSpec("sound", folder, GenerationRequest("a bell", seconds=0.5, steps=1, seed=1)))
        qtbot.waitUntil(lambda: job.done, timeout=180_000)
        assert job.status == "finished", job.error
    assert [m for m, _ in window.jobs.engines.resident()] == [folders[2], folders[1]]
    assert not window.jobs.engines.get(folders[0]).loaded
    dialog = window.open_model_manager()
    text = dialog.findChild(type(dialog.resident_label), "residentModels").text()
    assert "third-model" in text and "second-model" in text and "first-model" not in text
    dialog.close()
