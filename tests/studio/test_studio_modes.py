"""Speech (and Continue) modes, shown only when their core features exist."""

import pytest

JOB_TIMEOUT_MS = 180_000


def test_speech_mode_speaks_the_words_with_a_speech_checkpoint(qtbot, make_window, settings, tiny_speech_model_dir,
                                                               tiny_model_dir):
    pytest.importorskip("core.speech")
    from core.speech import estimate_seconds, normalize_text

    settings.local_models = [str(tiny_model_dir.resolve()), str(tiny_speech_model_dir.resolve())]
    window = make_window()
    panel = window.generation_panel
    panel.set_mode("speech")
    assert panel.transcription_edit.isVisible() and panel.seconds_spin.text().startswith("auto")
    speech_folder = str(tiny_speech_model_dir.resolve())
    assert [panel.model_combo.itemData(i) for i in range(panel.model_combo.count())
            if panel.model_combo.itemData(i).startswith("/")] == [speech_folder]  # no text-to-audio folders
    panel.set_model(speech_folder)
    panel.prompt_edit.setText("a calm narrator")
    panel.transcription_edit.setText("Hello there, 3 dogs.")
    panel.steps_spin.setValue(2)
    panel.candidates_spin.setValue(1)
    request = panel.build_request()
    assert request.seconds == estimate_seconds(normalize_text("Hello there, 3 dogs."))

    with qtbot.waitSignal(window.jobs.job_finished, timeout=JOB_TIMEOUT_MS) as done:
        panel.request_generate()
    result = done.args[1]
    assert result.best.clip.seconds == pytest.approx(request.seconds, abs=0.05)
    (item,) = window.library.search("narrator", mode="speech")
    assert item.settings["text"] == "Hello there, 3 dogs." and item.model == speech_folder

    panel.set_mode("sound")
    assert not panel.transcription_edit.isVisible() and panel.seconds_spin.value() >= 0.5
    window.library_panel.select_id(item.id)
    window.reopen_settings(item)
    assert panel.mode.name == "speech" and panel.transcription_edit.text() == "Hello there, 3 dogs."


def test_speech_mode_refuses_missing_words_before_any_job(make_window):
    pytest.importorskip("core.speech")
    window = make_window()
    panel = window.generation_panel
    panel.set_mode("speech")
    panel.prompt_edit.setText("a calm narrator")
    panel.request_generate()
    assert window.jobs.jobs == {} and "Words to speak are empty" in window.statusBar().currentMessage()
