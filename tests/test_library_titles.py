"""Library titles, file names and search cover what a take is: spoken words, source file, operation, model."""

import numpy as np

from core.audio.clip import Clip
from core.audio.formats.export import ExportSettings, export_name
from core.audio.provenance import Provenance
from core.audio.silence import is_near_silent
from core.library.store import Library


def tone(seconds=0.3, rate=16_000, amplitude=0.3):
    t = np.arange(int(seconds * rate)) / rate
    return Clip((amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)


def test_speech_and_continue_takes_are_named_and_found_by_what_they_are():
    library = Library()
    speech = library.add(tone(), prompt="a calm narrator", mode="speech", model="anhnct/audioldm2_gigaspeech",
                         licence="CC-BY-NC-SA-4.0", seed=3, settings={"text": "Welcome to episode 12."})
    cont = library.add(tone(), prompt="", mode="continue", model="/models/my-audioldm2", licence="x", seed=9,
                       settings={"source": "/home/me/loops/drum_intro.wav", "operation": "continue"})
    assert speech.title == "Welcome to episode 12." and speech.audio_path.name.startswith("welcome-to-episode-12_s3")
    assert cont.title == "drum_intro continued" and cont.audio_path.name.startswith("drum-intro-continued_s9")
    assert "untitled" not in cont.audio_path.name and "(no prompt)" not in cont.title

    assert [i.id for i in library.search("episode")] == [speech.id]
    assert [i.id for i in library.search("EPISODE 12")] == [speech.id]
    assert [i.id for i in library.search("drum_intro")] == [cont.id]
    assert [i.id for i in library.search("my-audioldm2")] == [cont.id]
    assert [i.id for i in library.search("narrator")] == [speech.id]
    assert library.search("episode drum") == []


def test_a_continued_library_take_is_named_without_the_source_seed():
    from core.audio.naming import take_title

    assert take_title("", {"source": "/lib/audio/2026-11/door-slam_s42-2.wav", "operation": "continue"}) == \
        "door-slam continued"
    assert take_title("fade out", {"source": "/x/intro.flac", "operation": "inpaint"}) == "intro inpainted — fade out"


def test_export_names_follow_the_take_title():
    settings = ExportSettings()
    spoken = Provenance(prompt="a calm narrator", model_id="m", licence="l", seed=4,
                        settings={"text": "Doors open at eight."})
    assert export_name(spoken, settings) == "doors-open-at-eight_s4.wav"


def test_purge_of_chosen_items_leaves_the_rest_of_the_trash():
    library = Library()
    a, b = (library.add(tone(), prompt=p, mode="sound", model="m", licence="l") for p in ("a", "b"))
    library.trash([a.id, b.id])
    assert library.purge([a.id]) == 1 and not a.audio_path.exists()
    assert [i.id for i in library.search(trashed=True)] == [b.id] and b.audio_path.exists()


def test_near_silence_is_recognised():
    assert is_near_silent(tone(amplitude=1e-4)) and is_near_silent(Clip(np.zeros(1600, np.float32), 16_000))
    assert is_near_silent(tone(amplitude=0.002))  # -54 dBFS: what an untrained model gives
    assert not is_near_silent(tone(amplitude=0.01))  # -40 dBFS: quiet, but there
