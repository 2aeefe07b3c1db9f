"""Speech and Continue modes on the real window."""

import pytest

JOB_TIMEOUT_MS = 180_000


def test_speech_mode_speaks_the_words_with_a_speech_checkpoint(qtbot, make_window, settings, tiny_speech_model_dir,
                                                               tiny_model_dir):
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
    window = make_window()
    panel = window.generation_panel
    panel.set_mode("speech")
    panel.prompt_edit.setText("a calm narrator")
    panel.request_generate()
    assert window.jobs.jobs == {} and "Words to speak are empty" in window.statusBar().currentMessage()


def test_continue_mode_extends_the_chosen_audio(qtbot, tiny_window, tmp_path):
    import soundfile as sf
    from studio_helpers import tone_clip

    source = tmp_path / "source.wav"
    sf.write(str(source), tone_clip(330.0, seconds=1.0, rate=22_050).samples, 22_050)
    window = tiny_window
    panel = window.generation_panel
    panel.set_mode("continue")
    assert panel.source_edit.isVisible() and not panel.transcription_edit.isVisible()
    panel.request_generate()  # no source yet
    assert window.jobs.jobs == {} and "No audio to continue" in window.statusBar().currentMessage()

    panel.source_edit.setText(str(source))
    panel.prompt_edit.setText("")  # the audio may speak for itself
    panel.seconds_spin.setValue(1.0)
    panel.steps_spin.setValue(2)
    panel.candidates_spin.setValue(1)
    with qtbot.waitSignal(window.jobs.job_finished, timeout=180_000) as done:
        panel.request_generate()
    take = done.args[1].best
    assert take.clip.sample_rate == 22_050 and take.clip.frames == 2 * 22_050  # input + 1 s, exactly
    assert take.settings["source"] == str(source)
    (item,) = window.library.search(mode="continue")
    assert item.settings["source"] == str(source)

    with qtbot.waitSignal(window.jobs.job_finished, timeout=180_000) as again:
        window.more_like_this(window.candidates.cards[0].entry)
    assert again.args[0].spec.extra["source"] == str(source)
    assert again.args[1].best.seed != take.seed

    window.candidates.select(0)
    window.use_selected_as_source()
    assert panel.source_edit.text() == str(window.library.get(window.candidates.current().library_id).audio_path)
