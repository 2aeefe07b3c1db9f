"""The real recordings come from Debian packages, so a fresh clone's tests find them without ../shared."""

import audio_corpus
import pytest


def test_every_recording_is_found_at_its_package_path_first():
    for name, (_, installed) in audio_corpus.RECORDINGS.items():
        if installed.is_file():
            assert audio_corpus.find_recording(name) == installed


def test_recordings_are_linked_under_their_corpus_names(tmp_path):
    files = audio_corpus.corpus_files(tmp_path)
    assert [f.name for f in files] == sorted(audio_corpus.RECORDINGS)
    assert all(f.is_file() and f.stat().st_size > 1000 for f in files)


def test_a_missing_recording_skips_locally_and_fails_in_ci(tmp_path, monkeypatch):
    monkeypatch.setitem(audio_corpus.RECORDINGS, "bell_44k_stereo.oga",
                        ("sound-theme-freedesktop", tmp_path / "absent" / "bell.oga"))
    monkeypatch.setattr(audio_corpus, "SHARED_CORPUS", tmp_path / "no-shared")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="sound-theme-freedesktop"):
        audio_corpus.corpus_files(tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="bell_44k_stereo.oga"):
        audio_corpus.corpus_files(tmp_path)
