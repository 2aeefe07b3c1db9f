"""The sqlite library: storing generations, search and filters, favourites, trash with undo, purge."""

import sqlite3

import numpy as np
import pytest

from core.audio.clip import Clip, read_tags
from core.audio.provenance import read_sidecar
from core.errors import InputError
from core.generation.requests import GenerationRequest
from core.library.store import DB_NAME, Library
from core.paths import data_dir


def tone(seconds=0.5, rate=16_000, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return Clip((0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)


def add(library, prompt, mode="sound", model="cvssp/audioldm2", seed=1, **kw):
    return library.add(tone(), prompt=prompt, mode=mode, model=model, licence="CC-BY-NC-SA-4.0", seed=seed,
                       score=0.25, settings={"prompt": prompt, "steps": 3, "seed": seed}, **kw)


def test_library_lives_in_the_data_folder_which_the_environment_overrides(tmp_path):
    library = Library()
    assert library.folder == data_dir() and str(tmp_path / "loa-data") == str(library.folder)
    item = add(library, "metal door slam in a large hall", seed=7)
    assert (library.folder / DB_NAME).is_file()
    assert item.audio_path.is_file() and item.audio_path.is_relative_to(library.folder / "audio")
    assert item.audio_path.name == "metal-door-slam-in-a-large-hall_s7.wav"


def test_a_stored_item_keeps_everything_needed_to_regenerate_it(tmp_path):
    library = Library(tmp_path / "lib")
    clip = tone(0.75, freq=1000.0)
    item = library.add(clip, prompt="rain on a tin roof", mode="sound", model="m/x", licence="MIT", seed=42,
                       score=0.5, settings={"prompt": "rain on a tin roof", "negative_prompt": "music",
                                            "steps": 3, "seed": 42})
    again = Library(tmp_path / "lib").get(item.id)  # reopened from disk
    assert (again.prompt, again.mode, again.model, again.licence, again.seed) == \
        ("rain on a tin roof", "sound", "m/x", "MIT", 42)
    assert again.score == pytest.approx(0.5) and again.negative_prompt == "music"
    assert again.settings["steps"] == 3 and not again.kept and not again.favourite and not again.trashed
    assert again.created.endswith("+00:00") and again.seconds == pytest.approx(0.75)
    np.testing.assert_array_equal(again.load_clip().samples, clip.samples)  # float WAV: bit exact
    assert read_sidecar(again.audio_path)["seed"] == 42
    assert "m/x" in read_tags(again.audio_path)["artist"]
    request = GenerationRequest(**{k: v for k, v in again.settings.items() if k != "seed"}, seed=again.seed)
    assert request.validated().seed == 42


def test_the_same_prompt_and_seed_twice_keeps_both_files(tmp_path):
    library = Library(tmp_path)
    a, b = add(library, "thunder", seed=3), add(library, "thunder", seed=3)
    assert a.audio_path != b.audio_path and a.audio_path.is_file() and b.audio_path.is_file()


def test_add_result_stores_every_candidate_of_a_generation(tiny_engine, tmp_path):
    result = tiny_engine.generate(GenerationRequest("a dog barking", seed=10, candidates=2, seconds=1.0, steps=2))
    library = Library(tmp_path)
    items = library.add_result(result, mode="sound")
    assert [i.seed for i in items] == [c.seed for c in result.candidates]
    assert all(i.model == result.model_id and i.licence == result.licence for i in items)
    assert items[0].sample_rate == 16_000 and items[0].seconds == pytest.approx(1.0)
    assert [i.id for i in library.search("barking")] == sorted((i.id for i in items), reverse=True)


def test_search_matches_every_word_in_prompt_negative_or_model(tmp_path):
    library = Library(tmp_path)
    door = add(library, "metal door slam in a large hall")
    rain = add(library, "rain on a tin roof", model="cvssp/audioldm2-large")
    song = add(library, "lo-fi piano loop", mode="music", model="cvssp/audioldm2-music")
    assert {i.id for i in library.search("")} == {door.id, rain.id, song.id}
    assert [i.id for i in library.search("DOOR hall")] == [door.id]
    assert library.search("door rain") == []
    assert [i.id for i in library.search("large")] == sorted([door.id, rain.id], reverse=True)
    assert [i.id for i in library.search(mode="music")] == [song.id]
    assert [i.id for i in library.search(model="cvssp/audioldm2-large")] == [rain.id]
    assert library.modes() == ["music", "sound"]
    assert library.models() == ["cvssp/audioldm2", "cvssp/audioldm2-large", "cvssp/audioldm2-music"]


def test_search_treats_like_wildcards_literally(tmp_path):
    library = Library(tmp_path)
    add(library, "100% wet reverb")
    add(library, "dry snare")
    assert [i.prompt for i in library.search("%")] == ["100% wet reverb"]
    assert library.search("_") == []


def test_favourite_and_keep_flags_filter_the_list(tmp_path):
    library = Library(tmp_path)
    a, b = add(library, "one"), add(library, "two")
    assert library.set_favourite(a.id).favourite
    assert library.set_kept(b.id).kept
    assert [i.id for i in library.search(favourites_only=True)] == [a.id]
    assert [i.id for i in library.search(kept_only=True)] == [b.id]
    assert not library.set_favourite(a.id, False).favourite


def test_delete_goes_to_the_trash_and_undo_restores_it(tmp_path):
    library = Library(tmp_path)
    a, b = add(library, "keep me"), add(library, "delete me")
    undo = library.trash(b.id)
    assert [i.id for i in library.search()] == [a.id]
    assert [i.id for i in library.search(trashed=True)] == [b.id]
    assert b.audio_path.is_file()  # trash keeps the file until purged
    library.restore(undo)
    assert {i.id for i in library.search()} == {a.id, b.id}


def test_purge_removes_trashed_rows_and_their_files(tmp_path):
    library = Library(tmp_path)
    a, b = add(library, "stay"), add(library, "go")
    library.trash([b.id])
    assert library.purge() == 1
    assert not b.audio_path.exists() and not b.audio_path.with_name(b.audio_path.name + ".json").exists()
    assert a.audio_path.is_file() and library.count() == 1 and library.count(trashed=True) == 0
    with pytest.raises(InputError, match=f"No library item with id {b.id}"):
        library.get(b.id)


def test_a_damaged_database_gives_a_clear_error(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="cannot be opened.*LOA_DATA_DIR"):
        Library(tmp_path)


def test_writes_from_a_worker_thread_are_seen_by_the_gui_thread(tmp_path):
    import threading

    library = Library(tmp_path)
    worker = threading.Thread(target=lambda: [add(library, f"take {i}", seed=i) for i in range(5)])
    worker.start()
    worker.join()
    assert library.count() == 5
    with sqlite3.connect(tmp_path / DB_NAME) as other:  # and by any other reader
        assert other.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 5
