"""5.1, quad and other many-channel files never lose a channel: export, Make mono/stereo, paste, the model's
input and pads all use core.audio.downmix (ITU-R BS.775), checked sample by sample against the formula."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from core.audio import downmix as dm
from core.audio.clip import MODEL_RATE, Clip, load_clip, resample
from core.audio.formats.export import ExportSettings, export_clip, resolve
from core.audio.provenance import Provenance
from core.editing import convert, splice
from core.editing.selection import Selection

H = np.sqrt(0.5)  # -3 dB
RATE = 8_000


def channels_file(path, channels, frames=RATE, seed=0, scale=0.3):
    """A float WAV whose channels are independent noise (so every weight shows in the result)."""
    samples = np.random.default_rng(seed).uniform(-scale, scale, (frames, channels)).astype(np.float32)
    sf.write(str(path), samples, RATE, subtype="FLOAT")
    return path


def formula_stereo(x):
    """ITU-R BS.775 by hand, in float64, by layout (WAV/SMPTE channel order)."""
    x = x.astype(np.float64)
    n = x.shape[1]
    if n == 6:  # L R C LFE Ls Rs
        L, R, C, _lfe, Ls, Rs = x.T
        return np.stack([L + H * C + H * Ls, R + H * C + H * Rs], axis=1)
    if n == 4:  # L R Ls Rs
        L, R, Ls, Rs = x.T
        return np.stack([L + H * Ls, R + H * Rs], axis=1)
    if n == 8:  # L R C LFE Ls Rs Lb Rb
        L, R, C, _lfe, Ls, Rs, Lb, Rb = x.T
        return np.stack([L + H * C + H * Ls + H * Lb, R + H * C + H * Rs + H * Rb], axis=1)
    raise AssertionError(n)


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=4e-7, atol=1e-7)  # float32 rounding of the float64 formula


@pytest.mark.parametrize("channels", [6, 4, 8])
def test_a_file_downmixes_to_stereo_and_mono_by_the_bs775_formula(tmp_path, channels):
    clip = load_clip(channels_file(tmp_path / f"{channels}ch.wav", channels))
    want = formula_stereo(clip.samples)
    stereo = clip.with_channels(2).samples
    assert stereo.shape == (clip.frames, 2) and stereo.dtype == np.float32
    close(stereo[:, 0], want[:, 0])
    close(stereo[:, 1], want[:, 1])
    close(clip.with_channels(1).samples[:, 0], want.mean(axis=1))
    close(clip.mono, want.mean(axis=1))


def test_the_lfe_is_left_out_and_the_centre_reaches_both_sides():
    for only, expect in ((2, (H, H)), (3, (0.0, 0.0)), (4, (H, 0.0)), (5, (0.0, H)), (0, (1.0, 0.0))):
        x = np.zeros((10, 6), np.float32)
        x[:, only] = 0.5
        out = dm.downmix(x, 2)
        close(out, np.tile(0.5 * np.array(expect), (10, 1)))
    lfe_only = np.zeros((10, 6), np.float32)
    lfe_only[:, 3] = 0.9
    assert not dm.downmix(lfe_only, 1).any() and not Clip(lfe_only, RATE).mono.any()


def test_stereo_to_mono_stays_the_plain_mean_bit_for_bit():
    x = np.random.default_rng(1).uniform(-1, 1, (1000, 2)).astype(np.float32)
    np.testing.assert_array_equal(dm.downmix(x, 1)[:, 0], x.mean(axis=1))
    np.testing.assert_array_equal(Clip(x, RATE).mono, x.mean(axis=1))


def test_a_count_without_a_standard_layout_uses_the_documented_equal_weights():
    x = np.random.default_rng(2).uniform(-1, 1, (100, 7)).astype(np.float32)
    out = dm.downmix(x, 2)
    close(out[:, 0], x[:, [0, 2, 4, 6]].astype(np.float64).mean(axis=1))  # 1st, 3rd, 5th, 7th: left
    close(out[:, 1], x[:, [1, 3, 5]].astype(np.float64).mean(axis=1))
    close(dm.downmix(x, 1)[:, 0], x.astype(np.float64).mean(axis=1))
    assert "no standard layout" in dm.describe(7, 2)


def test_a_downmix_above_full_scale_is_kept_in_float_with_a_note():
    x = np.full((100, 6), 0.9, np.float32)  # in phase everywhere: L' = 0.9 (1 + 2 x 0.707) = 2.17
    out = dm.downmix(x, 2)
    close(out, np.full((100, 2), 0.9 * (1 + 2 * H)))
    note = dm.note(6, 2, out)
    assert note.startswith("6 channels (5.1) downmixed to stereo (ITU-R BS.775")
    assert "+6.7 dBFS, above full scale" in note and "kept in float" in note
    assert dm.note(6, 2, out * 0.3) == "6 channels (5.1) downmixed to stereo (ITU-R BS.775, LFE left out)."


def test_export_to_stereo_writes_the_downmix_and_says_so(tmp_path):
    clip = load_clip(channels_file(tmp_path / "film.wav", 6))
    provenance = Provenance(prompt="film mix", model_id="m", licence="l", seed=1)
    choice = ExportSettings(container="wav", sample_format="float32", channels=2)
    resolved = resolve(clip, {}, choice)
    assert resolved.describe() == "WAV 32-bit float, 8 kHz, stereo"
    assert "6 channels (5.1) downmixed to stereo (ITU-R BS.775, LFE left out)." in resolved.notes
    path = export_clip(clip, provenance, choice, folder=tmp_path / "out")
    written, rate = sf.read(str(path), dtype="float32")
    assert written.shape == (clip.frames, 2) and rate == RATE
    close(written, formula_stereo(clip.samples))
    mono = export_clip(clip, provenance, ExportSettings(container="wav", sample_format="float32", channels=1),
                       folder=tmp_path / "out")
    close(sf.read(str(mono), dtype="float32")[0], formula_stereo(clip.samples).mean(axis=1))


def test_export_warns_before_a_loud_downmix_clips_at_24_bit(tmp_path):
    loud = Clip(np.full((RATE, 4), 0.8, np.float32), RATE)  # quad: 0.8 (1 + 0.707) = 1.37
    notes = resolve(loud, {}, ExportSettings(container="wav", sample_format="pcm24", channels=2)).notes
    assert any(n.startswith("The downmix peaks at +2.7 dBFS: 24-bit clips it") for n in notes)
    float_notes = resolve(loud, {}, ExportSettings(container="wav", sample_format="float32", channels=2)).notes
    assert any("above full scale" in n and "kept in float" in n for n in float_notes)
    same = resolve(loud, {}, ExportSettings(container="wav", sample_format="float32")).notes
    assert not any("downmix" in n for n in same)  # same as source: all four channels, nothing mixed


def test_make_stereo_and_make_mono_downmix_a_surround_clip_with_a_note(tmp_path):
    clip = load_clip(channels_file(tmp_path / "film.wav", 6))
    stereo = convert.to_stereo(clip, Selection())
    assert stereo.did_change and stereo.clip.channels == 2
    close(stereo.clip.samples, formula_stereo(clip.samples))
    assert stereo.note.startswith("6 channels (5.1) downmixed to stereo (ITU-R BS.775")
    mono = convert.to_mono(clip, Selection())
    close(mono.clip.samples[:, 0], formula_stereo(clip.samples).mean(axis=1))
    assert "downmixed to mono" in mono.note
    loud = convert.to_stereo(Clip(np.full((10, 6), 0.9, np.float32), RATE), Selection())
    assert loud.clip.samples.max() > 2.0 and "above full scale" in loud.note  # float: nothing clipped


def test_pasting_5_1_into_stereo_keeps_the_centre_and_surrounds(tmp_path):
    pasted = load_clip(channels_file(tmp_path / "film.wav", 6, frames=200))
    base = Clip(np.zeros((1000, 2), np.float32), RATE)
    result = splice.paste(base, Selection.cursor(500), pasted, crossfade=0)
    close(result.clip.samples[500:700], formula_stereo(pasted.samples))
    assert "6 channels (5.1) to stereo (ITU-R BS.775 downmix)" in result.note


def test_the_model_hears_the_downmix_not_the_first_channels(tmp_path):
    x = np.zeros((RATE, 6), np.float32)
    x[:, 2] = 0.5 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)  # dialogue on the centre channel only
    clip = Clip(x, RATE)
    heard = clip.for_model()
    np.testing.assert_allclose(heard, resample(H * x[:, 2], RATE, MODEL_RATE), atol=1e-6)  # soxr of the mix
    assert np.abs(heard).max() > 0.3


def test_pads_play_a_surround_clip_as_its_downmix():
    from core.devices.pad_player import PadPlayer

    x = np.random.default_rng(3).uniform(-0.3, 0.3, (500, 6)).astype(np.float32)
    player = PadPlayer(rate=RATE)  # no stream opened: loading a pad only converts it
    player.load("a", Clip(x, RATE))
    close(player._samples["a"], formula_stereo(x))
    player.channels = 1  # a one-output device
    player.load("b", Clip(x, RATE))
    close(player._samples["b"][:, 0], formula_stereo(x).mean(axis=1))


def test_a_voice_reference_on_the_centre_channel_of_a_5_1_file_is_heard(corpus_files, tmp_path):
    from core.speech import ReferenceVoice

    speech = load_clip(next(p for p in corpus_files if p.name.startswith("speech_")))  # 48 kHz mono
    film = np.zeros((speech.frames, 6), np.float32)
    film[:, 2] = speech.samples[:, 0]  # dialogue lives on the centre channel
    path = tmp_path / "dialogue 5.1.wav"
    sf.write(str(path), film, speech.sample_rate, subtype="FLOAT")
    mono = ReferenceVoice.from_clip(speech, "Front center.")
    surround = ReferenceVoice.from_file(path, "Front center.")
    assert surround.clip.frames == pytest.approx(mono.clip.frames, abs=640)
    ratio = np.sqrt(np.mean(surround.clip.samples ** 2) / np.mean(mono.clip.samples ** 2))
    assert ratio == pytest.approx(H, rel=0.05)  # the centre at -3 dB, not a sixth of it


def test_cli_continues_a_5_1_file_keeping_every_channel(tiny_model_dir, tmp_path, capsys):
    from core.cli.main import main

    src = channels_file(tmp_path / "film.wav", 6, frames=2 * RATE)
    out = tmp_path / "more.wav"
    code = main(["continue", str(src), "--seconds", "0.5", "--model", str(tiny_model_dir), "-o", str(out),
                 "--steps", "1", "--seed", "3"])
    assert code == 0, capsys.readouterr().err
    original, result = load_clip(src), load_clip(out)
    assert (result.channels, result.sample_rate) == (6, RATE)
    assert result.frames == original.frames + RATE // 2
    kept = original.frames - RATE // 2  # well before the seam's crossfade
    np.testing.assert_array_equal(result.samples[:kept], original.samples[:kept])
    new = result.samples[original.frames + RATE // 50:]  # after the 20 ms crossfade
    assert np.abs(new).max() > 0 and not new[:, 3].any()  # the generated part never lands on the LFE
    for c in (1, 2, 4, 5):
        np.testing.assert_array_equal(new[:, c], new[:, 0])  # equally on the main channels


def test_generated_mono_is_spread_so_its_downmix_gives_it_back():
    from core.audio.seams import fit_to_clip

    g = np.random.default_rng(5).uniform(-0.5, 0.5, 1600).astype(np.float32)
    for channels in (2, 3, 4, 5, 6, 8, 7):
        placed = fit_to_clip(g, 16_000, channels, 1600)
        close(dm.downmix(placed, 1)[:, 0], g)
    five_one = fit_to_clip(g, 16_000, 6, 1600)
    assert not five_one[:, 3].any()
    close(five_one[:, 0], g / (1 + 2 * H))  # mono weights of 5.1: 0.5 + 0.5 + 0.707 + 0.354 + 0.354
    np.testing.assert_array_equal(fit_to_clip(g, 16_000, 2, 1600), np.stack([g, g], axis=1))


def test_cli_refuses_an_output_that_cannot_hold_every_channel_before_the_model_loads(tmp_path, capsys):
    from core.cli.main import main

    src = channels_file(tmp_path / "film.wav", 6)
    out = tmp_path / "more.mp3"
    code = main(["continue", str(src), "--seconds", "0.5", "--model", str(tmp_path / "no-model"), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "MP3 holds at most 2 channels and film.wav has 6 channels (5.1); write .wav" in err
    assert not out.exists()


@pytest.mark.audio
def test_a_5_1_clip_plays_as_its_stereo_downmix():
    """Played into the PulseAudio null sink and recorded from its monitor (.ci/run starts it; else skipped)."""
    import threading

    from audio_services import require_pulse

    from core.devices.playback import Player, record

    require_pulse()
    t = np.arange(int(1.5 * 48_000)) / 48_000
    x = np.zeros((len(t), 6), np.float32)
    x[:, 2] = 0.5 * np.sin(2 * np.pi * 1000 * t)  # a centre-only tone: the old mono fold played it at 1/6
    finished = threading.Event()
    player = Player(on_finished=finished.set)
    player.play(Clip(x, 48_000))
    try:
        heard = record(1.0, rate=48_000, channels=2)
    finally:
        assert finished.wait(5.0), "end-of-clip callback never came"
    assert heard.channels == 2
    for c in range(2):
        assert np.abs(heard.samples[:, c]).max() == pytest.approx(0.5 * H, abs=0.03)


def test_loudness_of_5_1_and_quad_follows_the_same_layouts(tmp_path):
    """BS.1770 in the layouts above: 5.1 is its five main channels (LFE left out), quad is L R Ls Rs."""
    from loudness_reference import ebur128_lufs

    from core.editing import gain
    from core.editing.measure import integrated_loudness

    rate = 48_000
    x = (np.random.default_rng(4).standard_normal((2 * rate, 6)) * 0.1).astype(np.float32)
    five = ebur128_lufs(x[:, [0, 1, 2, 4, 5]], rate)
    assert integrated_loudness(x, rate) == pytest.approx(five, abs=0.01)
    louder_lfe = x.copy()
    louder_lfe[:, 3] *= 5
    assert integrated_loudness(louder_lfe, rate) == integrated_loudness(x, rate)
    quad = x[:, [0, 1, 4, 5]]  # L R Ls Rs: libebur128's five channels with a silent centre
    as_five = np.stack([quad[:, 0], quad[:, 1], 0 * quad[:, 0], quad[:, 2], quad[:, 3]], axis=1)
    expected = ebur128_lufs(as_five, rate)
    assert integrated_loudness(quad, rate) == pytest.approx(expected, abs=0.01)
    result = gain.normalize_loudness(Clip(x, rate), Selection(), lufs=-23.0)
    assert result.did_change and integrated_loudness(result.clip.samples, rate) == pytest.approx(-23.0, abs=0.05)


def test_the_mix_peak_is_found_piece_by_piece_and_remembered_per_array(monkeypatch):
    monkeypatch.setattr(dm, "PEAK_PIECE_FRAMES", 64)
    x = np.random.default_rng(6).uniform(-0.6, 0.6, (1000, 6)).astype(np.float32)
    x[777, [0, 2, 4]] = 0.9  # the loudest moment of the left mix sits in the 13th piece
    assert dm.mix_peak(x, 2) == dm.peak(dm.downmix(x, 2)) == pytest.approx(0.9 * (1 + 2 * H), rel=1e-6)
    assert dm.mix_peak(x, 1) == dm.peak(dm.downmix(x, 1))
    y = x * 0.5  # another array: never another array's remembered peak
    assert dm.mix_peak(y, 2) == pytest.approx(0.5 * dm.mix_peak(x, 2), rel=1e-6)
