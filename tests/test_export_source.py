"""Export "same as source" (issue 9 item 14, issue 10): a clip opened from a file, or derived from one, exports in
that file's container, bit depth, rate and channels; lossy sources become float WAV; generated takes WAV 24-bit
(float when they peak above 0 dBFS). Real files: the corpus recordings and files written here with soundfile;
every export is read back with soundfile and compared sample for sample where the format is lossless."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.audio.clip import Clip, load_clip
from core.audio.formats.export import ExportSettings, export_clip, resolve
from core.audio.provenance import Provenance
from core.editing import EditSession, Selection, gain
from core.editing.versions import save_as_version
from core.errors import InputError
from core.library.store import Library
from studio.editor.importer import import_file
from studio.shell.clip_entry import ClipEntry


def corpus(corpus_files, prefix: str) -> Path:
    return next(p for p in corpus_files if p.name.startswith(prefix))


def write(tmp_path, name, samples, rate, fmt, subtype) -> Path:
    path = tmp_path / name
    sf.write(str(path), samples, rate, format=fmt, subtype=subtype)
    return path


@pytest.fixture
def flac24(tmp_path, corpus_files) -> Path:
    """Two seconds of the corpus music (44.1 kHz stereo), written as a 24-bit FLAC."""
    music = load_clip(corpus(corpus_files, "music_intro"))
    samples = music.samples[44_100:3 * 44_100] * 0.9
    return write(tmp_path, "music intro.flac", samples, 44_100, "FLAC", "PCM_24")


def imported(path, library) -> ClipEntry:
    """The path a user takes: File > Open (or a drop) stores the file in the library; the entry comes back."""
    import_file(path, library)
    (item,) = [i for i in library.search() if i.settings.get("source_name") == path.name]
    return ClipEntry.from_library(item)


def export(entry: ClipEntry, folder: Path, settings: ExportSettings | None = None, **kwargs) -> Path:
    out = folder / "out"
    out.mkdir(exist_ok=True)
    return export_clip(entry.clip, entry.provenance(), settings or ExportSettings(), out, **kwargs)


def read_as(path: Path, dtype: str) -> np.ndarray:
    return sf.read(str(path), dtype=dtype, always_2d=True)[0]


def assert_format(path: Path, fmt: str, subtype: str, rate: int, channels: int) -> None:
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.samplerate, info.channels) == (fmt, subtype, rate, channels)


def test_a_24_bit_flac_exports_as_the_same_24_bit_flac(tmp_path, flac24):
    entry = imported(flac24, Library(tmp_path / "lib"))
    path = export(entry, tmp_path)
    assert path.suffix == ".flac"
    assert_format(path, "FLAC", "PCM_24", 44_100, 2)
    np.testing.assert_array_equal(read_as(path, "int32"), read_as(flac24, "int32"))
    assert resolve(entry.clip, entry.settings).same_as_source_label == "Same as source: FLAC 24-bit, 44.1 kHz, stereo"


@pytest.mark.parametrize("prefix, fmt, subtype, rate, channels", [
    ("speech_front_center", "WAV", "PCM_16", 48_000, 1),  # 16-bit WAV stays 16-bit WAV
    ("game_sfx", "WAV", "PCM_16", 22_050, 1),  # 8-bit WAV: 16-bit holds every sample exactly
])
def test_integer_wav_recordings_keep_their_format_and_samples(tmp_path, corpus_files, prefix, fmt, subtype, rate,
                                                              channels):
    source = corpus(corpus_files, prefix)
    entry = imported(source, Library(tmp_path / "lib"))
    path = export(entry, tmp_path)
    assert_format(path, fmt, subtype, rate, channels)
    np.testing.assert_array_equal(read_as(path, "float32"), read_as(source, "float32"))


def test_float_wav_stays_float_and_keeps_peaks_above_full_scale(tmp_path):
    t = np.arange(22_050) / 22_050
    samples = np.stack([1.5 * np.sin(2 * np.pi * 110 * t), -0.25 * np.ones_like(t)], axis=1).astype(np.float32)
    source = write(tmp_path, "hot.wav", samples, 22_050, "WAV", "FLOAT")
    entry = imported(source, Library(tmp_path / "lib"))
    path = export(entry, tmp_path)
    assert_format(path, "WAV", "FLOAT", 22_050, 2)
    back = read_as(path, "float32")
    np.testing.assert_array_equal(back, samples)
    assert back.max() > 1.4  # not clipped


def test_aiff_keeps_aiff_and_a_selection_keeps_the_format(tmp_path):
    samples = (0.3 * np.sin(np.linspace(0, 300, 32_000))).astype(np.float32)
    source = write(tmp_path, "pad.aiff", samples, 32_000, "AIFF", "PCM_24")
    entry = imported(source, Library(tmp_path / "lib"))
    path = export(entry, tmp_path, start=0.25, end=0.75)
    assert_format(path, "AIFF", "PCM_24", 32_000, 1)
    np.testing.assert_array_equal(read_as(path, "int32"), read_as(source, "int32")[8_000:24_000])


def test_a_lossy_corpus_recording_exports_as_float_wav_with_the_decoded_samples(tmp_path, corpus_files):
    source = corpus(corpus_files, "bell_44k")  # Ogg Vorbis
    entry = imported(source, Library(tmp_path / "lib"))
    resolved = resolve(entry.clip, entry.settings)
    assert "Ogg Vorbis" in resolved.notes[0] and "second lossy encode" in resolved.notes[0]
    path = export(entry, tmp_path)
    assert_format(path, "WAV", "FLOAT", 44_100, 2)
    np.testing.assert_array_equal(read_as(path, "float32"), load_clip(source).samples)


def test_an_mp3_source_defaults_to_float_wav_and_can_still_be_exported_as_mp3(tmp_path):
    t = np.arange(44_100) / 44_100
    source = write(tmp_path, "voice.mp3", (0.4 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), 44_100, "MP3",
                   "MPEG_LAYER_III")
    entry = imported(source, Library(tmp_path / "lib"))
    resolved = resolve(entry.clip, entry.settings)
    assert resolved.describe() == "WAV 32-bit float, 44.1 kHz, mono"
    assert resolved.notes[0].startswith("Source was MP3 (lossy): exporting as WAV 32-bit float")
    default = export(entry, tmp_path)
    assert_format(default, "WAV", "FLOAT", 44_100, 1)
    np.testing.assert_array_equal(read_as(default, "float32"), entry.clip.samples)
    chosen = export(entry, tmp_path, ExportSettings("mp3"))
    assert_format(chosen, "MP3", "MPEG_LAYER_III", 44_100, 1)


def test_generated_takes_default_to_24_bit_wav_at_their_rate_or_float_when_they_peak_above_full_scale(tmp_path):
    record = Provenance(prompt="glass shatter", model_id="tiny", licence="CC-BY-NC-SA-4.0", seed=3, settings={})
    quiet = Clip((0.5 * np.sin(np.linspace(0, 200, 16_000))).astype(np.float32), 16_000)
    hot = Clip(quiet.samples * 2.4, 16_000)
    path = export_clip(quiet, record, ExportSettings(), tmp_path)
    assert_format(path, "WAV", "PCM_24", 16_000, 1)
    assert resolve(quiet, {}).notes == ("No source file (generated or recorded): WAV 24-bit at the take's own rate.",)
    hot_path = export_clip(hot, record, ExportSettings(), tmp_path)
    assert_format(hot_path, "WAV", "FLOAT", 16_000, 1)
    np.testing.assert_array_equal(read_as(hot_path, "float32"), hot.samples)


def test_an_edited_library_version_still_exports_as_the_original_flac(tmp_path, flac24):
    library = Library(tmp_path / "lib")
    entry = imported(flac24, library)
    edited = gain.gain(entry.clip, Selection.whole(entry.clip), -6.0)
    version = library.add_version(entry.library_id, edited.clip, [edited.operation])
    again = library.add_version(version.id, edited.clip, [edited.operation])  # a version of a version
    for item in (version, again):
        path = export(ClipEntry.from_library(item), tmp_path)
        assert_format(path, "FLAC", "PCM_24", 44_100, 2)
        np.testing.assert_array_equal(read_as(path, "float32"), np.round(edited.clip.samples * 2**23) / 2**23)


def test_an_edit_session_saved_as_a_version_keeps_the_files_format(tmp_path, flac24):
    """A file edited before it was in the library: the session's source carries the format into the version."""
    library = Library(tmp_path / "lib")
    clip = load_clip(flac24)
    session = EditSession.create(clip, name="music intro", source={"path": str(flac24), "mode": "import",
                                                                   "source_format": "FLAC",
                                                                   "source_subtype": "PCM_24"})
    try:
        session.apply("gain", Selection.whole(clip), db=-3.0)
        item = save_as_version(session, library)
    finally:
        session.discard()
    path = export(ClipEntry.from_library(item), tmp_path)
    assert_format(path, "FLAC", "PCM_24", 44_100, 2)


def test_a_continue_take_follows_its_input_file(tmp_path, flac24):
    record = Provenance(prompt="more music", model_id="tiny", licence="x", seed=1, settings={"source": str(flac24)})
    clip = load_clip(flac24)
    path = export_clip(clip, record, ExportSettings(), tmp_path)
    assert_format(path, "FLAC", "PCM_24", 44_100, 2)


def test_overrides_change_only_what_the_user_picked(tmp_path, flac24):
    entry = imported(flac24, Library(tmp_path / "lib"))
    rate_only = export(entry, tmp_path, ExportSettings(sample_rate=48_000))
    assert_format(rate_only, "FLAC", "PCM_24", 48_000, 2)
    everything = export(entry, tmp_path, ExportSettings("wav", "pcm16", 22_050, 1))
    assert_format(everything, "WAV", "PCM_16", 22_050, 1)
    opus = export(entry, tmp_path, ExportSettings("opus", sample_rate=48_000))
    assert_format(opus, "OGG", "OPUS", 48_000, 2)


@pytest.mark.parametrize("choice, words", [
    (ExportSettings("opus"), "Opus cannot hold 44.1 kHz audio (it takes 8, 12, 16, 24, 48 kHz); choose one of"),
    (ExportSettings("mp3", sample_rate=96_000), "MP3 cannot hold 96 kHz audio"),
    (ExportSettings("flac", "float32"), "FLAC cannot hold 32-bit float samples; choose 16-bit or 24-bit, or export"),
    (ExportSettings("mp3", "pcm24"), "MP3 is lossy and has no bit depth to choose"),
])
def test_impossible_combinations_say_so_in_one_line_and_write_nothing(tmp_path, flac24, choice, words):
    entry = imported(flac24, Library(tmp_path / "lib"))
    with pytest.raises(InputError) as raised:
        export(entry, tmp_path, choice)
    assert words in str(raised.value) and "\n" not in str(raised.value)
    assert list((tmp_path / "out").iterdir()) == []


def test_integer_export_of_a_clip_that_peaks_above_full_scale_warns(tmp_path, flac24):
    entry = imported(flac24, Library(tmp_path / "lib"))
    hot = 1.5 / np.abs(entry.clip.samples).max()  # peaks at +3.5 dBFS, e.g. after hot float audio was pasted in
    louder = Clip(entry.clip.samples * hot, entry.clip.sample_rate)
    resolved = resolve(louder, entry.settings)
    assert resolved.settings.sample_format == "pcm24"  # still the source's format ...
    assert any("clips it; choose 32-bit float" in note for note in resolved.notes)  # ... with the reason to change
