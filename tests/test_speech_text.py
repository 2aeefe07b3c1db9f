"""Speech input without a model: text normalisation, the duration rule, script parsing, reference checks."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio.clip import Clip, load_clip
from core.errors import InputError
from core.speech.reference import MAX_REFERENCE_SECONDS, ReferenceVoice, voicing
from core.speech.script import join_lines, parse_script
from core.speech.text import estimate_seconds, normalize_text


@pytest.mark.parametrize("text, expected", [
    ("Dr. Smith paid $12.50.", "Doctor Smith paid twelve dollars, fifty cents."),
    ("It costs £1,200 & more!", "It costs one thousand, two hundred pounds and more!"),
    ("Meet me at 10:30 a.m. on the 2nd.", "Meet me at ten thirty a m on the second."),
    ("Back in 1999, 50% of us", "Back in nineteen ninety-nine, fifty percent of us"),
    ("It was -4°C, 3.14 km away", "It was minus four degrees celsius, three point one four kilometres away"),
    ("Episode #12 — “live”", 'Episode number twelve, "live"'),
    ("Mr. Jones vs. Mrs. Lee, e.g. at the café", "Mister Jones versus Missus Lee, for example at the cafe"),
    ("Wait 3-5 minutes", "Wait three to five minutes"),
    ("Call 007", "Call oh oh seven"),
    ("In the 1990s and the '80s", "In the nineteen nineties and the eighties"),
    ("No. I live on Main St. near St. Paul.", "No. I live on Main Street near Saint Paul."),
    ("Track no. 5 lasts 10s", "Track number five lasts ten seconds"),
])
def test_normalisation_spells_out_numbers_symbols_and_abbreviations(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Pay $1.999 now", "Pay one point nine nine nine dollars now"),  # not "ninety-nine cents": a digit dropped
    ("It is €1,000.999", "It is one thousand point nine nine nine euros"),
    ("Only $0.5", "Only fifty cents"),
    ("It was −5°C", "It was minus five degrees celsius"),  # U+2212, the minus word processors write
    ("Down to −12 today", "Down to minus twelve today"),
    ("10−3 is 7", "ten minus three is seven"),
    ("It costs $12345678901234", "It costs twelve trillion, three hundred and forty-five billion, six hundred and "
                                 "seventy-eight million, nine hundred and one thousand, two hundred and thirty-four "
                                 "dollars"),
])
def test_amounts_and_signs_are_said_as_written(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize("text", ["We have 1,0000 cars", "It costs $1,0000", "1,000,0000.5 m"])
def test_a_number_grouped_wrongly_is_refused_with_the_reason(text):
    with pytest.raises(InputError, match=r"cannot say the number 1,[0,]*0000[.5]*: digits after a comma must come "
                                         r"in groups of three \(1,000 or 10,000\); write it without commas"):
        normalize_text(text)


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("   ", "empty"), ("... !!! ???", "nothing speakable"), ("你好", "English"),
    ("Привет", "English"),
])
def test_text_that_cannot_be_spoken_is_refused_clearly(text, message):
    with pytest.raises(InputError, match=message):
        normalize_text(text)


def test_duration_follows_the_words():
    short = estimate_seconds(normalize_text("Hi."))
    sentence = estimate_seconds(normalize_text("Welcome to the show. Today we talk about sound."))
    assert 1.0 <= short < sentence
    # 37 letters at 12 per second, one sentence break, plus margin: 0.6 + 3.08 + 0.5 -> 4.2 s.
    assert sentence == pytest.approx(4.2)
    assert estimate_seconds("a, b, c") > estimate_seconds("a b c")  # pauses cost time


def test_script_parsing_voices_presets_and_pauses():
    script = parse_script(
        "# intro\n@voice host: a calm male narrator\n[host] Welcome.\n[narrator, CALM] Today: sound.\n\n"
        "Goodbye!\n", default_voice="a default voice", pause=0.5)
    assert [line.text for line in script.lines] == ["Welcome.", "Today: sound.", "Goodbye!"]
    assert [line.number for line in script.lines] == [3, 4, 6]
    assert script.lines[0].voice == "a calm male narrator"
    assert script.lines[1].voice.startswith("a calm male narrator speaking")  # the built-in preset
    assert script.lines[1].negative_prompt == "noise, music"
    assert script.lines[2].voice == "a default voice" and script.lines[2].voice_name is None
    assert [line.pause_before for line in script.lines] == [0.0, 0.5, 1.0]  # blank line: doubled


@pytest.mark.parametrize("text, message", [
    ("# only a comment\n", "no lines"),
    ("[nobody] Hello.\n", r"line 1: unknown voice \[nobody\]"),
    ("@voice host\n", "line 1: write a voice"),
    ("@voice host: x\n[host]\n", r"line 2: \[host\] has no words"),
    ("Hello.\n[host hello\n", r"line 2: the voice tag has no closing \]"),
])
def test_bad_scripts_name_the_line(text, message):
    with pytest.raises(InputError, match=message):
        parse_script(text, default_voice="v")


def test_pause_directive_sets_the_silence_before_the_next_line():
    script = parse_script("@pause 1\nIntro.\nOne.\n@pause 2.5\n\nTwo.\n@pause 0\nThree.\n", "v", pause=0.5)
    assert [line.pause_before for line in script.lines] == [1.0, 0.5, 2.5, 0.0]  # exact: no paragraph doubling
    assert [line.number for line in script.lines] == [2, 3, 6, 8]
    joined, offsets = join_lines([(line.pause_before, Clip(np.ones(160, np.float32), 16000))
                                  for line in script.lines])
    assert offsets[0] == 1.0 and joined.frames == 4 * 160 + int(16000 * (1.0 + 0.5 + 2.5))


@pytest.mark.parametrize("text, message", [
    ("Hi.\n@pause\nBye.\n", "line 2: write a pause as `@pause SECONDS`"),
    ("Hi.\n@pause long\nBye.\n", "line 2: write a pause"),
    ("Hi.\n@pause 11\nBye.\n", "line 2: write a pause as `@pause SECONDS`, from 0 to 10"),
    ("Hi.\n@pause 2\n", "line 2: @pause sets the silence before the next line, and no line follows it"),
])
def test_bad_pauses_name_the_line(text, message):
    with pytest.raises(InputError, match=message):
        parse_script(text, default_voice="v")


def test_script_check_names_the_unspeakable_line():
    script = parse_script("Hello.\n???\n", default_voice="v")
    with pytest.raises(InputError, match="script line 2: nothing speakable"):
        script.check()


def test_join_lines_puts_pauses_between_lines():
    a, b = Clip(np.ones(16000, np.float32), 16000), Clip(np.ones(8000, np.float32) * 0.5, 16000)
    joined, offsets = join_lines([(0.0, a), (0.25, b)])
    assert joined.frames == 16000 + 4000 + 8000
    assert offsets == [0.0, 1.25]
    assert np.all(joined.samples[16000:20000] == 0) and np.all(joined.samples[20000:] == 0.5)


# ---- reference recordings ----------------------------------------------------------------------

def test_real_speech_reference_is_accepted_at_any_rate_and_channel_count(corpus_files):
    speech = next(p for p in corpus_files if p.name.startswith("speech_"))
    clip = load_clip(speech)  # 48 kHz mono
    ref = ReferenceVoice.from_clip(clip, "Front centre.", source=speech.name)
    assert ref.clip.sample_rate == 16000 and ref.clip.channels == 1
    assert ref.clip.frames % 640 == 0  # whole 40 ms latent rows
    assert 1.0 <= ref.seconds <= clip.seconds + 0.04
    assert ref.text == "Front centre."
    stereo_44k = Clip(np.repeat(clip.resampled(44100).samples, 2, axis=1), 44100)
    ref2 = ReferenceVoice.from_clip(stereo_44k, "Front centre.")
    assert abs(ref2.seconds - ref.seconds) <= 0.05


def _tone(seconds, hz=220.0, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.mark.parametrize("make, message", [
    (lambda: np.zeros(48000, np.float32), "at least 1 s"),                       # silence
    (lambda: np.random.default_rng(0).normal(0, 0.2, 48000).astype(np.float32), "no speech"),  # noise
    (lambda: _tone(3.0), "no speech"),                                           # a held tone
])
def test_references_without_speech_are_refused(make, message):
    with pytest.raises(InputError, match=message):
        ReferenceVoice.from_clip(Clip(make(), 16000), "some words")


def test_reference_length_bounds_and_words(corpus_files):
    speech = load_clip(next(p for p in corpus_files if p.name.startswith("speech_")))
    wave = speech.for_model()
    with pytest.raises(InputError, match="at least 1 s"):
        ReferenceVoice.from_clip(Clip(wave[: int(0.35 * 16000)], 16000), "front")
    long = np.tile(wave, int(MAX_REFERENCE_SECONDS / speech.seconds) + 2)
    with pytest.raises(InputError, match="at most 8 s"):
        ReferenceVoice.from_clip(Clip(long, 16000), "front centre")
    with pytest.raises(InputError, match="reference-text"):
        ReferenceVoice.from_clip(speech, "  ")


def test_voicing_tells_speech_from_noise_and_tones(corpus_files):
    speech = load_clip(next(p for p in corpus_files if p.name.startswith("speech_"))).for_model()
    voiced, spread = voicing(speech)
    assert voiced >= 0.3 and spread >= 1.0
    assert voicing(np.random.default_rng(1).normal(0, 0.2, 32000))[0] == 0.0
    assert voicing(_tone(2.0))[1] < 0.5
