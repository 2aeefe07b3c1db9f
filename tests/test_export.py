import json

import numpy as np
import pytest
import soundfile as sf

from core.audio.clip import SUBTYPES as SF_SUBTYPES
from core.audio.clip import Clip, load_clip, read_tags
from core.audio.formats.export import SAMPLE_FORMATS, ExportSettings, export_clip, export_name, render, select
from core.audio.provenance import Provenance, read_sidecar
from core.errors import InputError

RATES = (16_000, 44_100, 48_000)  # resampling up, across and from the model rate (every rate: test_export_source)
COMBINATIONS = [(container, fmt, rate) for container, formats in SAMPLE_FORMATS.items()
                for fmt in formats for rate in RATES]


def tone_clip(seconds=1.0, rate=16_000, channels=1, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.5 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return Clip(np.repeat(wave[:, None], channels, axis=1), rate)


def provenance(seed=1234):
    return Provenance(prompt="Metal door slam in a large hall!", model_id="cvssp/audioldm2",
                      licence="CC-BY-NC-SA-4.0", seed=seed, settings={"steps": 25}, score=0.42)


def dominant_frequency(samples, rate):
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.argmax(spectrum) * rate / len(samples)


def test_combinations_cover_every_offered_format():
    assert len(COMBINATIONS) == 36  # WAV and AIFF: 16/24/32-bit and 32/64-bit float; FLAC: 16/24-bit
    assert ("flac", "float32", 48_000) not in COMBINATIONS and ("aiff", "pcm24", 44_100) in COMBINATIONS


@pytest.mark.parametrize("container, sample_format, rate", COMBINATIONS)
def test_every_combination_reads_back_with_rate_subtype_length_and_tags(tmp_path, container, sample_format, rate):
    clip = tone_clip(seconds=1.0, rate=16_000, channels=2)
    settings = ExportSettings(container, sample_format, rate)
    path = export_clip(clip, provenance(), settings, tmp_path)

    assert path.name == f"metal-door-slam-in-a-large-hall_s1234.{container}"
    info = sf.info(str(path))
    assert info.format == container.upper()
    assert info.subtype == SF_SUBTYPES[sample_format]
    assert info.samplerate == rate and info.channels == 2
    assert abs(info.frames - rate) <= 2  # one second at the export rate
    back = load_clip(path)
    assert abs(dominant_frequency(back.samples[:, 0], rate) - 440) < 3  # resampling kept the pitch
    assert np.abs(back.samples).max() == pytest.approx(0.5, abs=0.02)

    tags = read_tags(path)
    assert tags["title"] == "Metal door slam in a large hall!"
    assert "cvssp/audioldm2" in tags["artist"]
    assert "CC-BY-NC-SA-4.0" in tags["copyright"]
    comment = json.loads(tags["comment"])
    assert comment["seed"] == 1234 and comment["export"]["sample_rate"] == rate
    sidecar = read_sidecar(path)
    assert sidecar["sample_rate"] == rate and sidecar["seed"] == 1234 and sidecar["score"] == 0.42
    assert sidecar["settings"]["source_sample_rate"] == 16_000


def test_selection_exports_only_the_selected_range_with_its_bounds_in_name_and_metadata(tmp_path):
    rate = 44_100
    # A marker: silence, then a loud burst from 0.5 s to 0.75 s, then silence.
    samples = np.zeros(rate, dtype=np.float32)
    samples[int(0.5 * rate):int(0.75 * rate)] = 0.8
    clip = Clip(samples, rate)
    path = export_clip(clip, provenance(seed=7), ExportSettings("wav", "float32", rate), tmp_path,
                       start=0.5, end=0.75)
    assert path.name == "metal-door-slam-in-a-large-hall_s7_0.50-0.75s.wav"
    back = load_clip(path)
    assert back.frames == int(0.25 * rate)
    assert np.allclose(back.samples, 0.8)
    assert read_sidecar(path)["settings"]["selection_seconds"] == [0.5, 0.75]
    assert read_sidecar(path)["seconds"] == pytest.approx(0.25, abs=1e-4)


def test_selection_with_resampling_has_the_length_at_the_new_rate(tmp_path):
    clip = tone_clip(seconds=2.0, rate=16_000)
    part = render(clip, ExportSettings("flac", "pcm16", 48_000), start=0.25, end=1.25)
    assert part.sample_rate == 48_000 and abs(part.frames - 48_000) <= 2


def test_open_ended_selection_runs_to_the_end():
    clip = tone_clip(seconds=1.0)
    assert select(clip, 0.5, None).frames == 8000
    assert select(clip, None, 0.25).frames == 4000
    assert select(clip) is clip
    assert export_name(provenance(), ExportSettings(), 0.5, None).endswith("_0.50-end.wav")


def test_a_part_of_a_bar_locked_take_is_not_named_as_its_whole_bar_count():
    """A 2 s selection of a 4-bar loop at 97 BPM was named ..._97bpm_4bars_..._1.05-3.08s.wav (issue 21 walk)."""
    loop = Provenance(prompt="lofi drum loop", model_id="m", licence="l", seed=7,
                      settings={"bar_locked": True, "bpm": 97.0, "bars": 4, "beats_per_bar": 4})
    assert export_name(loop, ExportSettings()) == "lofi-drum-loop_97bpm_4bars_s7.wav"
    assert export_name(loop, ExportSettings(), 1.05, 3.08) == "lofi-drum-loop_97bpm_s7_1.05-3.08s.wav"
    one_bar = 4 * 60 / 97
    assert export_name(loop, ExportSettings(), one_bar, 3 * one_bar) == \
        f"lofi-drum-loop_97bpm_2bars_s7_{one_bar:.2f}-{3 * one_bar:.2f}s.wav"
    assert export_name(loop, ExportSettings(), 0.5, None) == "lofi-drum-loop_97bpm_s7_0.50-end.wav"


@pytest.mark.parametrize("start, end", [(-0.1, 0.5), (0.5, 0.5), (0.8, 0.2), (0.0, 1.5)])
def test_bad_selections_raise_a_clear_input_error(start, end):
    with pytest.raises(InputError, match="selection"):
        select(tone_clip(seconds=1.0), start, end)


@pytest.mark.parametrize("settings, field", [
    (ExportSettings("m4a"), "export format"),
    (ExportSettings("flac", "float32"), "FLAC cannot hold"),
    (ExportSettings("wav", "pcm8"), "bit depth"),
    (ExportSettings("wav", "pcm16", 500), "sample rate"),
    (ExportSettings("mp3", "pcm16"), "MP3 is lossy"),
    (ExportSettings(channels=6), "channels"),
])
def test_invalid_settings_name_the_problem(settings, field):
    with pytest.raises(InputError, match=field):
        settings.validated()


def test_a_taken_name_is_numbered_not_overwritten(tmp_path):
    clip = tone_clip(seconds=0.1)
    first = export_clip(clip, provenance(), ExportSettings(), tmp_path)
    second = export_clip(clip, provenance(), ExportSettings(), tmp_path)
    assert first != second and second.name == "metal-door-slam-in-a-large-hall_s1234-2.wav"
    assert first.exists() and second.exists()
    again = export_clip(clip, provenance(), ExportSettings(), tmp_path, overwrite=True)
    assert again == first


def test_explicit_path_must_match_the_container(tmp_path):
    with pytest.raises(InputError, match=".flac"):
        export_clip(tone_clip(0.1), provenance(), ExportSettings("flac", "pcm16"), path=tmp_path / "x.wav")
    settings = ExportSettings.for_path(tmp_path / "x.flac", ExportSettings("wav", "float32", 44_100))
    assert settings == ExportSettings("flac", "pcm24", 44_100)
    path = export_clip(tone_clip(0.1), provenance(), settings, path=tmp_path / "x.flac")
    assert sf.info(str(path)).subtype == "PCM_24"
    with pytest.raises(InputError, match="ending in .wav, .flac"):
        ExportSettings.for_path(tmp_path / "x.m4a")
    assert ExportSettings.for_path(tmp_path / "x.mp3", settings) == ExportSettings("mp3", None, 44_100)


def test_settings_round_trip_through_a_dict():
    settings = ExportSettings("flac", "pcm16", 44_100)
    assert ExportSettings.from_dict(settings.to_dict() | {"unknown": 1}) == settings
    with pytest.raises(InputError):
        ExportSettings.from_dict({"container": "m4a"})


def test_caller_provenance_is_not_changed(tmp_path):
    record = provenance()
    export_clip(tone_clip(0.1), record, ExportSettings(), tmp_path, start=0.0, end=0.05)
    assert record.settings == {"steps": 25}


def test_default_export_keeps_the_source_rate(tmp_path):
    """A 44.1 kHz take exports at 44.1 kHz unless the user picks a rate (issue 9, item 14)."""
    clip = tone_clip(0.2, rate=44_100)
    path = export_clip(clip, provenance(), ExportSettings(), tmp_path)
    assert sf.info(str(path)).samplerate == 44_100 and sf.info(str(path)).frames == clip.frames
