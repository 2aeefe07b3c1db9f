import numpy as np
import pytest
import soundfile as sf

from core.audio.clip import MODEL_RATE, Clip, load_clip, read_tags, resample, save_clip
from core.audio.provenance import Provenance, read_sidecar, save_with_provenance
from core.errors import InputError


def test_every_corpus_file_loads_and_converts_to_model_input(corpus_files):
    for path in corpus_files:
        clip = load_clip(path)
        info = sf.info(str(path))
        assert clip.sample_rate == info.samplerate, path.name
        assert clip.channels == info.channels, path.name
        assert clip.frames > 0 and np.isfinite(clip.samples).all(), path.name
        model_input = clip.for_model()
        assert model_input.ndim == 1 and model_input.dtype == np.float32
        assert abs(len(model_input) - clip.seconds * MODEL_RATE) <= 2, path.name


def test_resampling_keeps_a_tone_at_its_pitch():
    rate = 44_100
    t = np.arange(rate) / rate
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    down = resample(tone, rate, MODEL_RATE)
    spectrum = np.abs(np.fft.rfft(down))
    assert abs(np.argmax(spectrum) * MODEL_RATE / len(down) - 1000) < 2


@pytest.mark.parametrize("suffix, subtype", [(".wav", "pcm16"), (".wav", "pcm24"), (".wav", "float32"),
                                             (".flac", "pcm16"), (".flac", "pcm24"), (".ogg", None)])
def test_save_and_load_round_trip(tmp_path, suffix, subtype):
    rng = np.random.default_rng(0)
    clip = Clip(rng.uniform(-0.5, 0.5, size=(4800, 2)).astype(np.float32), 48_000)
    path = save_clip(clip, tmp_path / f"x{suffix}", subtype=subtype, tags={"title": "rain"})
    back = load_clip(path)
    assert (back.sample_rate, back.channels, back.frames) == (48_000, 2, 4800)
    if suffix != ".ogg":  # lossy codec
        assert np.abs(back.samples - clip.samples).max() < 1e-3
    assert read_tags(path)["title"] == "rain"


def test_provenance_goes_into_the_file_and_a_sidecar(tmp_path):
    clip = Clip(np.zeros(1600, dtype=np.float32), MODEL_RATE)
    prov = Provenance(prompt="metal door slam", model_id="cvssp/audioldm2", licence="CC-BY-NC-SA-4.0", seed=7,
                      settings={"steps": 25})
    path = save_with_provenance(clip, tmp_path / "door.wav", prov)
    tags = read_tags(path)
    assert tags["title"] == "metal door slam"
    assert "CC-BY-NC-SA-4.0" in tags["copyright"]
    assert '"seed": 7' in tags["comment"]
    sidecar = read_sidecar(path)
    assert sidecar["seed"] == 7 and sidecar["model_id"] == "cvssp/audioldm2" and sidecar["settings"]["steps"] == 25
    assert sidecar["app_version"]


def test_unreadable_file_gets_a_clear_error(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio")
    with pytest.raises(InputError, match="Cannot read notes.wav as audio"):
        load_clip(bad)


def test_missing_and_empty_files_get_clear_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_clip(tmp_path / "nope.wav")
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros((0, 1), dtype=np.float32), 16_000)
    with pytest.raises(InputError, match="holds no audio"):
        load_clip(empty)


def test_non_finite_samples_are_repaired_and_counted(tmp_path):
    samples = np.full(1000, 0.25, dtype=np.float32)
    samples[[3, 10]] = [np.nan, np.inf]
    path = tmp_path / "nan.wav"
    sf.write(str(path), samples, 16_000, subtype="FLOAT")
    clip = load_clip(path)
    assert clip.repaired_samples == 2
    assert np.isfinite(clip.samples).all() and clip.samples[3, 0] == 0.0


def test_all_nan_file_is_rejected(tmp_path):
    path = tmp_path / "allnan.wav"
    sf.write(str(path), np.full(100, np.nan, dtype=np.float32), 16_000, subtype="FLOAT")
    with pytest.raises(InputError, match="no valid samples"):
        load_clip(path)


def test_unknown_extension_is_refused(tmp_path):
    with pytest.raises(InputError, match="unknown extension"):
        save_clip(Clip(np.zeros(10, dtype=np.float32), 16_000), tmp_path / "x.mp4")
