"""Presets: built-in per mode from resources/, user presets saved to and reloaded from the config folder."""

import json

import pytest

from core.errors import InputError
from core.generation.presets import (
    MODES,
    Preset,
    builtin_presets,
    delete_user_preset,
    presets_for,
    save_user_preset,
    user_presets,
    user_presets_path,
)
from core.paths import config_dir


def test_every_mode_ships_valid_builtin_presets():
    for mode in MODES:
        presets = builtin_presets(mode)
        assert presets, f"no built-in presets for {mode}"
        assert all(p.builtin and p.mode == mode for p in presets)
    speech = builtin_presets("speech")
    assert all(p.transcription for p in speech)


def test_user_presets_are_saved_in_the_config_folder_and_reloaded(tmp_path):
    preset = Preset("My door", "sound", prompt="door slam", seconds=3.0, steps=10, guidance=2.0, candidates=2)
    save_user_preset(preset)
    assert user_presets_path().parent == config_dir() == tmp_path / "loa-config"
    loaded = user_presets("sound")
    assert loaded == [preset]
    assert not loaded[0].builtin
    assert presets_for("sound")[-1] == preset and presets_for("music")[-1].builtin


def test_saving_under_an_existing_name_replaces_it_and_delete_removes_it():
    save_user_preset(Preset("Mine", "music", prompt="first"))
    save_user_preset(Preset("Mine", "music", prompt="second"))
    save_user_preset(Preset("Mine", "sound", prompt="other mode"))
    assert [p.prompt for p in user_presets("music")] == ["second"]
    assert delete_user_preset("music", "Mine")
    assert not delete_user_preset("music", "Mine")
    assert [p.mode for p in user_presets()] == ["sound"]


@pytest.mark.parametrize("data, message", [
    ({"name": "", "mode": "sound"}, "non-empty name"),
    ({"name": "x", "mode": "video"}, "mode must be one of"),
    ({"name": "x", "mode": "sound", "steps": 0}, "steps must be a whole number"),
    ({"name": "x", "mode": "sound", "seconds": 999}, "seconds must be"),
])
def test_bad_presets_are_refused_with_the_field_named(data, message):
    with pytest.raises(InputError, match=message):
        Preset.from_dict(data)


def test_a_damaged_user_presets_file_names_itself():
    user_presets_path().write_text("{not json")
    with pytest.raises(InputError, match="user-presets.json is not valid JSON"):
        user_presets()
    user_presets_path().write_text(json.dumps({"name": "x"}))
    with pytest.raises(InputError, match="JSON list"):
        user_presets()


def test_only_speech_presets_may_leave_the_duration_to_the_words():
    assert Preset.from_dict({"name": "auto", "mode": "speech", "seconds": None}).seconds is None
    assert all(p.seconds is None for p in builtin_presets("speech"))
    with pytest.raises(InputError, match="only speech presets"):
        Preset.from_dict({"name": "auto", "mode": "sound", "seconds": None})
