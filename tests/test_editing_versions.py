"""Editing a library item makes a new version; the original stays; the chain is recorded and old databases open."""

import sqlite3

import numpy as np

from core.audio.clip import Clip, load_clip
from core.editing import EditSession, Selection, versions
from core.library.store import Library

OLD_SCHEMA = """
CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT, prompt TEXT NOT NULL, negative_prompt TEXT NOT NULL DEFAULT '',
    mode TEXT NOT NULL, settings TEXT NOT NULL DEFAULT '{}', seed INTEGER, model TEXT NOT NULL,
    licence TEXT NOT NULL DEFAULT '', score REAL, audio_path TEXT NOT NULL, sample_rate INTEGER NOT NULL,
    seconds REAL NOT NULL, created TEXT NOT NULL, kept INTEGER NOT NULL DEFAULT 0,
    favourite INTEGER NOT NULL DEFAULT 0, trashed INTEGER NOT NULL DEFAULT 0, trashed_at TEXT);
PRAGMA user_version = 1;
"""


def take(seconds=1.0, rate=16000) -> Clip:
    rng = np.random.default_rng(2)
    return Clip((rng.standard_normal(int(seconds * rate)) * 0.2).astype(np.float32), rate)


def test_editing_a_generated_take_makes_a_version_and_keeps_the_original(tmp_path):
    library = Library(tmp_path / "lib")
    original = library.add(take(), prompt="rain on a tin roof", mode="generate", model="tiny", licence="cc-by-nc",
                           seed=42, score=0.3)
    before = original.audio_path.read_bytes()
    session = EditSession.create(original.load_clip(), name=original.title, source={"library_id": original.id},
                                 root=tmp_path / "edits")
    session.apply("cut", Selection(1000, 3000))
    session.apply("fade_out", Selection(), curve="exponential")
    version = versions.save_as_version(session, library)

    assert original.audio_path.read_bytes() == before  # never overwritten
    assert version.id != original.id and version.audio_path != original.audio_path
    assert version.parent_id == original.id and version.mode == "edit"
    assert [op["op"] for op in version.operations] == ["cut", "fade_out"]
    assert version.prompt == original.prompt and version.seed == 42 and version.licence == "cc-by-nc"
    assert np.array_equal(load_clip(version.audio_path).samples, session.clip.samples)
    assert [i.id for i in library.lineage(version.id)] == [version.id, original.id]
    assert [v.id for v in library.versions_of(original.id)] == [version.id]
    assert not session.has_unsaved_edits

    # Editing the version makes a third link in the chain.
    second = EditSession.create(version.load_clip(), source={"library_id": version.id}, root=tmp_path / "edits")
    second.apply("gain", Selection(), db=-3.0)
    third = versions.save_as_version(second, library)
    assert [i.id for i in library.lineage(third.id)] == [third.id, version.id, original.id]
    lines = versions.describe_lineage(library, third.id)
    assert "Gain -3.0 dB" in lines[0] and "Cut" in lines[1] and lines[2].startswith(f"#{original.id} generate")
    # The library survives a reopen with the chain intact.
    library.close()
    assert [i.id for i in Library(tmp_path / "lib").lineage(third.id)] == [third.id, version.id, original.id]


def test_a_file_not_in_the_library_is_imported_first_so_the_chain_starts_at_it(tmp_path):
    library = Library(tmp_path / "lib")
    clip = take()
    session = EditSession.create(clip, name="knock", source={"path": "/recordings/knock.wav"},
                                 root=tmp_path / "edits")
    session.apply("reverse", Selection(0, 100))
    version = versions.save_as_version(session, library)
    chain = library.lineage(version.id)
    assert [i.mode for i in chain] == ["edit", "import"] and chain[1].prompt == "knock"
    assert np.array_equal(chain[1].load_clip().samples, clip.samples)
    assert session.source["library_id"] == chain[1].id  # a second save chains to the same original
    assert versions.save_as_version(session, library).parent_id == chain[1].id


def test_a_library_from_before_versions_opens_and_gains_the_columns(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "audio").mkdir()
    from core.audio.clip import save_clip
    save_clip(take(), folder / "audio" / "old.wav")
    db = sqlite3.connect(str(folder / "library.sqlite3"))
    db.executescript(OLD_SCHEMA)
    db.execute("INSERT INTO items (prompt, mode, model, audio_path, sample_rate, seconds, created) "
               "VALUES ('old take', 'generate', 'm', 'audio/old.wav', 16000, 1.0, '2025-01-01T00:00:00+00:00')")
    db.commit()
    db.close()

    library = Library(folder)
    old = library.get(1)
    assert old.prompt == "old take" and old.parent_id is None and old.operations == []
    version = library.add_version(old.id, take(0.5), [{"op": "trim", "start": 0, "end": 8000}])
    assert [i.id for i in library.lineage(version.id)] == [version.id, 1]
    user_version = sqlite3.connect(str(folder / "library.sqlite3")).execute("PRAGMA user_version").fetchone()[0]
    assert user_version == 2
