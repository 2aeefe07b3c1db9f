"""Loudness and true peak against the references (issue 19): EBU Tech 3341 signals, libebur128 (pyebur128),
ffmpeg's ebur128=peak=true and sox's 8x oversampling, on generated signals and real recordings."""

import subprocess

import numpy as np
import pytest
import soundfile as sf
from audio_services import require_tools
from loudness_reference import ebur128_lufs, ffmpeg_true_peak_db, sox_8x_peak_db

from core.audio.clip import Clip
from core.editing import Selection, gain, measure

RATE = 48000


def tone(dbfs: float, seconds: float, channels: int = 2, rate: int = RATE) -> np.ndarray:
    """A 1 kHz sine at `dbfs` peak level on every channel (EBU Tech 3341's signals)."""
    t = np.arange(int(round(seconds * rate))) / rate
    return np.repeat((10 ** (dbfs / 20) * np.sin(2 * np.pi * 1000 * t))[:, None], channels, axis=1)


def tech_3341_case(number: int) -> np.ndarray:
    """EBU Tech 3341 (2016) table 1, cases 1-6: each reads -23.0 LUFS (case 2: -33.0)."""
    if number == 1:
        return tone(-23, 20)
    if number == 2:
        return tone(-33, 20)
    if number == 3:
        return np.concatenate([tone(-36, 10), tone(-23, 60), tone(-36, 10)])
    if number == 4:
        return np.concatenate([tone(-72, 10), tone(-36, 10), tone(-23, 60), tone(-36, 10), tone(-72, 10)])
    if number == 5:
        return np.concatenate([tone(-26, 20), tone(-20, 20.1), tone(-26, 20)])
    # 5.0: L R at -28, C at -24, Ls Rs at -30 dBFS
    return np.concatenate([tone(-28, 20, 2), tone(-24, 20, 1), tone(-30, 20, 2)], axis=1)


@pytest.mark.parametrize("number", range(1, 7))
def test_ebu_tech_3341_cases_1_to_6(number):
    x = tech_3341_case(number)
    expected = -33.0 if number == 2 else -23.0
    got = measure.integrated_loudness(x.astype(np.float32), RATE)
    assert got == pytest.approx(expected, abs=0.05)
    assert got == pytest.approx(ebur128_lufs(x, RATE), abs=0.01)


def test_k_weighting_is_the_recommendations_own_at_48k():
    """BS.1770-4 tables 1 and 2, no 0.99504 gain on the high pass (pyloudnorm's default reads 0.043 LU high)."""
    assert measure.K_WEIGHTING_48K[1, :3].tolist() == [1.0, -2.0, 1.0]
    x = (np.random.default_rng(4).standard_normal((RATE * 10, 2)) * 0.1).astype(np.float32)
    assert measure.integrated_loudness(x, RATE) == pytest.approx(ebur128_lufs(x, RATE), abs=0.003)


@pytest.mark.parametrize("seconds,silence", [(0.4, 0.0), (0.45, 0.0), (0.6, 0.06), (0.6, 0.09), (1.05, 0.0),
                                             (1.0, 0.15), (2.2, 0.08), (2.95, 0.05)])
def test_short_clips_count_only_whole_blocks(seconds, silence):
    """A gating block never runs past the end (BS.1770 floors the count): a tone with a little silence after
    it reads as libebur128 reads it (a 0.6 s tone + 60 ms silence once read -23.33 instead of -23.00)."""
    x = np.concatenate([tone(-23, seconds), np.zeros((int(round(silence * RATE)), 2))])
    assert measure.integrated_loudness(x.astype(np.float32), RATE) == pytest.approx(ebur128_lufs(x, RATE),
                                                                                       abs=0.05)
    assert measure.gating_blocks(len(x), RATE) == int(np.floor((len(x) / RATE - 0.4) / 0.1 + 1e-9)) + 1


def _resampled_by_sox(path, tmp_path, rate):
    out = tmp_path / f"{path.stem}_{rate}.wav"
    subprocess.run(["sox", str(path), "-b", "32", "-e", "floating-point", str(out), "rate", "-v", str(rate)],
                   check=True)
    return sf.read(str(out), always_2d=True)[0]


def test_recordings_read_as_libebur128_reads_them(corpus_files, tmp_path):
    """Real recordings at 8-96 kHz: within 0.02 LU of libebur128 at 44.1 and 48 kHz, where its filters are the
    48 kHz curve; at every rate within 0.02 LU of libebur128 reading the same audio resampled to 48 kHz by sox
    (libebur128's own filters for 8, 22.05 and 96 kHz are 0.2, 0.05 and 0.02 dB off that curve)."""
    require_tools("sox")
    seen = set()
    for path in corpus_files:
        x, rate = sf.read(str(path), always_2d=True)
        if len(x) < 0.4 * rate:
            continue
        seen.add(rate)
        got = measure.integrated_loudness(x.astype(np.float32), rate)
        if rate in (44100, 48000):
            assert got == pytest.approx(ebur128_lufs(x, rate), abs=0.02), path.name
        at_48k = _resampled_by_sox(path, tmp_path, RATE)
        assert got == pytest.approx(ebur128_lufs(at_48k, RATE), abs=0.02), path.name
    assert {8000, 22050, 44100, 48000, 96000} <= seen


def test_an_8k_phone_recording_is_weighted_like_48k(corpus_files, tmp_path):
    require_tools("sox")
    phone = next(p for p in corpus_files if p.name.startswith("phone_"))
    x, rate = sf.read(str(phone), always_2d=True)
    normalised = gain.normalize_loudness(Clip(x.astype(np.float32), rate), Selection(), lufs=-16.0,
                                           true_peak_limit=-1.0)
    assert normalised.note == ""
    upsampled = tmp_path / "normalised.wav"
    sf.write(str(upsampled), normalised.clip.samples, rate, subtype="FLOAT")
    assert ebur128_lufs(_resampled_by_sox(upsampled, tmp_path, RATE), RATE) == pytest.approx(-16.0, abs=0.02)


@pytest.mark.parametrize("lufs,ceiling", [(-16.0, -1.0), (-14.0, -2.0)])
def test_true_peak_ceiling_holds_by_ffmpeg_and_sox(corpus_files, tmp_path, lufs, ceiling):
    """Normalised with a ceiling, a recording never reads above it by ffmpeg's true peak or sox's 8x
    oversampling (BS.1770's 4x interpolator read trash-empty 0.15 dB low: ffmpeg saw -0.848 at -1)."""
    require_tools("ffmpeg", "sox")
    for path in corpus_files:
        if not path.name.startswith(("trash_", "music_", "speech_", "service_")):
            continue
        x, rate = sf.read(str(path), always_2d=True)
        result = gain.normalize_loudness(Clip(x.astype(np.float32), rate), Selection(), lufs=lufs,
                                           true_peak_limit=ceiling)
        out = tmp_path / f"{path.stem}_{-lufs:g}_{-ceiling:g}.wav"
        sf.write(str(out), result.clip.samples, rate, subtype="FLOAT")
        ebur128_reading, swr_max = ffmpeg_true_peak_db(out)
        sox_reading = sox_8x_peak_db(out, rate)
        assert max(ebur128_reading, swr_max, sox_reading) <= ceiling, (path.name, ebur128_reading, swr_max,
                                                                        sox_reading)
        if path.name.startswith("trash_"):  # the ceiling binds here: it is reached, not undershot
            assert "not" in result.note and swr_max > ceiling - 0.1
        if not result.note and rate in (44100, 48000):  # the ceiling did not bind: on target
            assert ebur128_lufs(result.clip.samples, rate) == pytest.approx(lufs, abs=0.02)
