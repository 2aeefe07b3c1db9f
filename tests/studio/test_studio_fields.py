"""Settings that stay put (issue 9): each mode keeps its own fields, presets set sound settings only, the fields
survive a restart, and a duration past the maximum says the maximum."""


from core.generation.presets import Preset, builtin_presets, user_presets
from core.generation.requests import MAX_SECONDS


def test_switching_modes_never_changes_another_modes_fields(make_window):
    panel = make_window().generation_panel
    panel.set_mode("sound")
    panel.prompt_edit.setText("glass shatter")
    panel.negative_edit.setText("music")
    panel.seconds_spin.setValue(10.0)
    panel.steps_spin.setValue(30)
    panel.set_mode("speech")
    assert panel.seconds_spin.text().startswith("auto")  # Speech starts from the speech settings
    assert panel.prompt_edit.text() != "glass shatter" and panel.negative_edit.text() == ""
    assert "door" not in panel.prompt_edit.placeholderText() and panel.steps_spin.value() == 50
    panel.prompt_edit.setText("a calm narrator")
    panel.negative_edit.setText("noise")
    panel.set_mode("music")
    panel.seconds_spin.setValue(20.0)
    panel.set_mode("continue")
    panel.set_mode("sound")
    assert (panel.prompt_edit.text(), panel.negative_edit.text(), panel.seconds_spin.value(),
            panel.steps_spin.value()) == ("glass shatter", "music", 10.0, 30)
    assert panel.build_request().seconds == 10.0
    panel.set_mode("speech")
    assert (panel.prompt_edit.text(), panel.negative_edit.text()) == ("a calm narrator", "noise")
    assert panel.seconds_spin.value() == 0.0
    panel.set_mode("music")
    assert panel.seconds_spin.value() == 20.0


def test_a_preset_keeps_the_words_the_typed_prompt_and_an_installed_model(make_window, settings, tiny_speech_model_dir):
    folder = str(tiny_speech_model_dir.resolve())
    settings.local_models = [folder]
    window = make_window()
    panel = window.generation_panel
    panel.set_mode("speech")
    panel.set_model(folder)
    panel.prompt_edit.setText("my own voice description")
    panel.transcription_edit.setText("Episode twelve starts now.")
    narrator = next(p for p in builtin_presets("speech") if p.name == "Narrator, calm")
    assert narrator.model and narrator.model != folder  # prefers a catalog checkpoint that is not installed
    panel.apply_preset(narrator)
    assert panel.transcription_edit.text() == "Episode twelve starts now."
    assert panel.prompt_edit.text() == "my own voice description"
    assert panel.steps_spin.value() == narrator.steps and panel.guidance_spin.value() == narrator.guidance
    assert panel.model_combo.currentData() == folder and settings.model_for_mode("speech") == folder
    assert panel.model_hint.isVisible() and narrator.model in panel.model_hint.text()

    panel.set_mode("music")  # the music picker lists only uninstalled catalog models here
    lofi = next(p for p in builtin_presets("music") if p.name.startswith("Lo-fi"))
    panel.apply_preset(lofi)
    assert panel.prompt_edit.text() == lofi.prompt  # an empty prompt takes the preset's example
    assert settings.model_for_mode("music") is None  # no uninstalled model was remembered
    panel.apply_preset(next(p for p in builtin_presets("music") if p.name.startswith("Acoustic")))
    assert panel.prompt_edit.text().startswith("gentle acoustic")  # still the preset's text: replaced

    panel.set_mode("speech")
    saved = panel.save_preset("Podcast voice")
    assert saved.transcription is None and saved.seconds is None
    (mine,) = user_presets("speech")
    assert mine.transcription is None and mine.seconds is None


def test_fields_and_mode_survive_a_restart(make_window, settings):
    window = make_window()
    panel = window.generation_panel
    panel.set_mode("sound")
    panel.prompt_edit.setText("footsteps on snow")
    panel.steps_spin.setValue(40)
    panel.seconds_spin.setValue(7.5)
    panel.set_mode("speech")
    panel.transcription_edit.setText("Welcome back to episode 12.")
    window.close()

    from studio.shell.settings import StudioSettings

    again = make_window(settings=StudioSettings(settings.path)).generation_panel
    assert again.mode.name == "speech" and again.transcription_edit.text() == "Welcome back to episode 12."
    again.set_mode("sound")
    assert (again.prompt_edit.text(), again.steps_spin.value(), again.seconds_spin.value()) == \
        ("footsteps on snow", 40, 7.5)


def test_a_duration_past_the_maximum_says_the_maximum(qtbot, make_window):
    window = make_window()
    spin = window.generation_panel.seconds_spin
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "100")
    message = window.statusBar().currentMessage()
    assert "Duration" in message and f"{MAX_SECONDS:g}" in message.replace(".00", "")


def test_a_voice_preset_replaces_the_default_voice_but_not_a_typed_one(make_window):
    panel = make_window().generation_panel
    panel.set_mode("speech")
    narrator = next(p for p in builtin_presets("speech") if p.name == "Narrator, calm")
    panel.apply_preset(narrator)
    assert panel.prompt_edit.text() == narrator.prompt  # the untouched default voice was only a starting point


def test_user_presets_from_older_versions_still_never_set_the_words(make_window, monkeypatch):
    panel = make_window().generation_panel
    panel.set_mode("speech")
    panel.transcription_edit.setText("mine")
    panel.apply_preset(Preset(name="old", mode="speech", transcription="theirs", seconds=None))
    assert panel.transcription_edit.text() == "mine"


def test_the_candidates_shown_at_close_come_back(make_window, settings):
    from studio_helpers import tone_clip

    from core.library.store import Library
    from studio.shell.clip_entry import ClipEntry
    from studio.shell.settings import StudioSettings

    library = Library()
    window = make_window(library=library)
    stored = library.add(tone_clip(330.0), prompt="kept one", mode="sound", model="m", licence="l", seed=1)
    takes = [ClipEntry.from_library(stored),
             ClipEntry(tone_clip(550.0), prompt="only on screen", mode="sound", model="m", licence="l", seed=2,
                       score=0.25, settings={"prompt": "only on screen", "steps": 9})]
    window.candidates.show_entries(takes)
    window.close()

    again = make_window(settings=StudioSettings(settings.path), library=library)
    shown = [card.entry for card in again.candidates.cards]
    assert [(e.prompt, e.seed, e.library_id) for e in shown] == [("kept one", 1, stored.id),
                                                                  ("only on screen", 2, None)]
    assert shown[1].score == 0.25 and shown[1].settings["steps"] == 9
    assert shown[1].clip.frames == takes[1].clip.frames and again.selected_entry() is shown[0]
