"""core.audio.formats.kept: which format an edit of the user's file is written in (no model needed)."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.audio.formats.kept import kept_format
from core.errors import InputError

TONE = (0.5 * np.sin(np.linspace(0, 400, 16_000))).astype(np.float32)


def make(tmp_path, name, fmt, subtype):
    path = tmp_path / name
    sf.write(str(path), TONE, 16_000, format=fmt, subtype=subtype)
    return path


@pytest.mark.parametrize("name, fmt, subtype, expected", [
    ("a.wav", "WAV", "PCM_16", (".wav", "pcm16")),
    ("a.wav", "WAV", "PCM_24", (".wav", "pcm24")),
    ("a.wav", "WAV", "PCM_32", (".wav", "pcm32")),
    ("a.wav", "WAV", "PCM_U8", (".wav", "pcm16")),
    ("a.wav", "WAV", "ULAW", (".wav", "pcm16")),
    ("a.wav", "WAV", "FLOAT", (".wav", "float32")),
    ("a.wav", "WAV", "DOUBLE", (".wav", "float64")),
    ("a.flac", "FLAC", "PCM_24", (".flac", "pcm24")),
    ("a.aiff", "AIFF", "PCM_24", (".aiff", "pcm24")),
    ("a.oga", "OGG", "VORBIS", (".wav", "float32")),
    ("a.ogg", "OGG", "OPUS", (".wav", "float32")),
    ("a.mp3", "MP3", "MPEG_LAYER_III", (".wav", "float32")),
])
def test_the_input_format_is_kept_and_lossy_becomes_float_wav(tmp_path, name, fmt, subtype, expected):
    plan = kept_format(make(tmp_path, name, fmt, subtype))
    assert (plan.extension, plan.subtype) == expected
    assert ("is lossy" in plan.note) == (expected == (".wav", "float32") and fmt != "WAV")


def test_overrides_and_what_cannot_be_kept(tmp_path):
    float_wav = make(tmp_path, "f.wav", "WAV", "FLOAT")
    plan = kept_format(float_wav, output=Path("out.flac"))
    assert (plan.extension, plan.subtype) == (".flac", "pcm24") and "cannot hold" in plan.note
    assert kept_format(float_wav, container="flac", subtype="pcm16").subtype == "pcm16"
    ogg = kept_format(float_wav, output=Path("out.ogg"))
    assert ogg.subtype is None and "lossy" in ogg.note
    for kwargs, words in [(dict(container="flac", subtype="float32"), "FLAC cannot hold float32"),
                          (dict(output=Path("x.wav"), container="flac"), "disagree"),
                          (dict(container="ogg", subtype="pcm16"), "lossy"),
                          (dict(output=Path("x.mp4")), "unknown extension")]:
        with pytest.raises(InputError, match=words):
            kept_format(float_wav, **kwargs)
