"""Text-to-speech and script mode through the engine, on the tiny VITS-based speech pipeline."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.audio.provenance import read_sidecar
from core.errors import InputError
from core.generation.engine import Engine
from core.speech import SpeechRequest, parse_script, render_script, speak, write_script
from core.speech.text import check_speakable, normalize_text

FAST = dict(steps=2, guidance=2.0)

END_OF_PHONEMES = 182  # the pipeline marks the end of the phonemes with this id


class PhonemeIdsSeen:
    """Records the ids the pipeline feeds to its VITS phoneme encoder (a forward pre-hook, nothing replaced)."""

    def __init__(self, pipe):
        self.ids = []
        self._handle = pipe.text_encoder_2.text_encoder.register_forward_pre_hook(self._record)

    def _record(self, module, args):
        self.ids.append(args[0].clone())

    def close(self):
        self._handle.remove()


def spoken_ids(tokenizer, words):
    return list(tokenizer(words, padding=False).input_ids)


def test_the_spelled_out_transcription_reaches_the_phoneme_encoder(tiny_speech_engine):
    pipe = tiny_speech_engine.pipeline
    seen = PhonemeIdsSeen(pipe)
    try:
        result = speak(tiny_speech_engine, SpeechRequest("Dr. Smith paid $5.", voice="a female reporter", seed=4,
                                                         **FAST))
    finally:
        seen.close()
    words = "Doctor Smith paid five dollars."
    expected = spoken_ids(pipe.tokenizer_2, words)
    assert len(seen.ids) == 1
    row = seen.ids[0][0].tolist()
    assert row[: len(expected)] == expected
    assert row[len(expected)] == END_OF_PHONEMES
    best = result.best
    assert best.settings["transcription"] == words and best.settings["text"] == "Dr. Smith paid $5."
    assert best.settings["prompt"] == "a female reporter"
    # Duration derived from the words: 0.6 s margin + 26 letters at 12 a second = 2.77 -> 2.8 s.
    assert best.settings["seconds"] == pytest.approx(2.8) and best.clip.frames == 44800


def test_candidates_are_ranked_and_each_reproducible_by_its_seed(tiny_speech_engine):
    result = speak(tiny_speech_engine, SpeechRequest("Doors open at eight.", seconds=1.2, seed=20, candidates=2,
                                                     **FAST))
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True) and {c.seed for c in result.candidates} == {20, 21}
    pick = result.candidates[-1]
    alone = speak(tiny_speech_engine, SpeechRequest("Doors open at eight.", seconds=1.2, seed=pick.seed, **FAST))
    if tiny_speech_engine.fast.plan.reduced:  # bf16 kernels block differently by batch size: equal to rounding
        diff = np.linalg.norm(alone.best.clip.samples - pick.clip.samples) / np.linalg.norm(pick.clip.samples)
        assert diff <= 1e-2
    else:
        np.testing.assert_allclose(alone.best.clip.samples, pick.clip.samples, atol=1e-4)
    other_words = speak(tiny_speech_engine, SpeechRequest("Good night.", seconds=1.2, seed=pick.seed, **FAST))
    assert other_words.best.clip.samples.shape == pick.clip.samples.shape == (19200, 1)
    assert not np.allclose(other_words.best.clip.samples, pick.clip.samples, atol=1e-4)


def test_text_the_model_cannot_say_is_refused_before_generation(tiny_speech_engine):
    tok = tiny_speech_engine.pipeline.tokenizer_2
    with pytest.raises(InputError, match="too long for one utterance"):
        check_speakable(tok, normalize_text("word " * 40), "word " * 40)
    with pytest.raises(InputError, match="English"):
        speak(tiny_speech_engine, SpeechRequest("你好", **FAST))
    with pytest.raises(InputError, match="too long"):
        speak(tiny_speech_engine, SpeechRequest("This sentence is far too long for the tiny phoneme window of "
                                                "the test model, which holds sixty four.", **FAST))


def test_a_sound_model_is_refused_for_speech(tiny_engine):
    with pytest.raises(InputError, match="not a speech model"):
        speak(tiny_engine, SpeechRequest("Hello.", **FAST))


# ---- a checkpoint whose tokenizer phonemizes (needs phonemizer + espeak-ng, as the project installs) ----

VITS_SYMBOLS = (["_", "<unk>"] + list(';:,.!?¡¿—…"«»“” ') + list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
                + list("ɑɐɒæɓʙβɔɕçɗɖðʤəɘɚɛɜɝɞɟʄɡɠɢʛɦɧħɥʜɨɪʝɭɬɫɮʟɱɯɰŋɳɲɴøɵɸθœɶʘɹɺɾɻʀʁɽʂʃʈʧʉʊʋⱱʌɣɤʍχʎʏʑʐʒʔʡʕʢǀǁǂǃˈˌːˑʼʴʰʱʲʷˠˤ˞↓↑→↗↘'̩ᵻ"))


@pytest.fixture(scope="module")
def phonemizing_engine(tiny_speech_model_dir, tmp_path_factory):
    """The tiny speech model with a VitsTokenizer(phonemize=True) over the VITS symbol set."""
    from transformers import VitsTokenizer

    folder = tmp_path_factory.mktemp("models") / "tiny-speech-phonemes"
    shutil.copytree(tiny_speech_model_dir, folder)
    symbols = list(dict.fromkeys(VITS_SYMBOLS))
    symbols += [f"<x{i}>" for i in range(183 - len(symbols))]
    assert len(symbols) == 183
    vocab = folder / "vocab-source.json"
    vocab.write_text(json.dumps({s: i for i, s in enumerate(symbols)}))
    shutil.rmtree(folder / "tokenizer_2")
    VitsTokenizer(str(vocab), pad_token="_", unk_token="<unk>", phonemize=True, add_blank=False, normalize=True,
                  model_max_length=64).save_pretrained(folder / "tokenizer_2")
    vocab.unlink()
    return Engine(folder, device="cpu")


def test_a_phonemizing_tokenizer_gets_espeak_phonemes(phonemizing_engine):
    from phonemizer import phonemize

    pipe = phonemizing_engine.pipeline
    assert pipe.tokenizer_2.phonemize
    words = normalize_text("I have 2 cats.")
    # The tokenizer keeps letters its vocabulary holds (here both cases) and phonemizes the sentence whole.
    phonemes = phonemize(words, language="en-us", backend="espeak", strip=True, preserve_punctuation=True,
                         with_stress=True)
    assert "ˈ" in phonemes  # espeak-ng really ran
    vocab = pipe.tokenizer_2.get_vocab()
    expected = [vocab[c] for c in phonemes]
    seen = PhonemeIdsSeen(pipe)
    try:
        result = speak(phonemizing_engine, SpeechRequest("I have 2 cats.", seconds=1.0, seed=1, **FAST))
    finally:
        seen.close()
    row = seen.ids[0][0].tolist()
    assert row[: len(expected)] == expected and row[len(expected)] == END_OF_PHONEMES
    assert pipe.tokenizer_2.unk_token_id not in row
    assert result.best.clip.frames == 16000


# ---- script mode ----------------------------------------------------------------------------------

def test_script_renders_each_line_and_joins_them_with_pauses(tiny_speech_engine, tmp_path):
    script = parse_script("@voice host: a calm male narrator\n[host] Welcome to episode 12.\nThanks.\n\n"
                          "[Announcer, bright] Bye!\n", default_voice="a female reporter", pause=0.3)
    result = render_script(tiny_speech_engine, script, SpeechRequest("", seed=7, **FAST))
    joined_path, line_paths = write_script(result, tmp_path / "episode", name="episode")

    assert len(line_paths) == 3 and joined_path.name == "episode.wav"
    assert sorted(p.name for p in (tmp_path / "episode").glob("*.wav")) == sorted(
        ["episode.wav", "01-welcome-to-episode-12.wav", "02-thanks.wav", "03-bye.wav"])
    line_clips = [line_result.best.clip for _, line_result in result.lines]
    pauses = 0.3 + 0.6  # one pause, then a doubled one after the blank line
    expected = sum(c.frames for c in line_clips) + int(round(pauses * 16000))
    assert result.joined.frames == expected
    assert result.offsets == pytest.approx([0.0, line_clips[0].seconds + 0.3,
                                            line_clips[0].seconds + line_clips[1].seconds + 0.9])
    for (line, line_result), clip, start in zip(result.lines, line_clips, result.offsets):
        at = int(round(start * 16000))
        assert np.array_equal(result.joined.samples[at: at + clip.frames], clip.samples)
        best = line_result.best
        assert best.seed == 7 and best.settings["steps"] == 2 and best.settings["guidance"] == 2.0
        assert best.settings["script_line"] == line.number
    voices = [r.best.settings["prompt"] for _, r in result.lines]
    assert voices == ["a calm male narrator", "a female reporter", "an energetic female announcer, close microphone"]
    record = read_sidecar(joined_path)
    assert [entry["file"] for entry in record["settings"]["lines"]] == [p.name for p in line_paths]
    assert read_sidecar(line_paths[1])["settings"]["transcription"] == "Thanks."


def test_one_line_renders_alone_exactly_as_in_the_script(tiny_speech_engine, tmp_path):
    """render_line with the script's seed gives the script's take bit for bit (so the window can re-render or
    re-roll one line); another seed gives another take; the others are untouched by construction."""
    from core.speech.script import assemble, render_line, script_file_names

    script = parse_script("Good morning.\n[Narrator, calm] See you soon.\n", default_voice="a female reporter")
    settings = SpeechRequest("", seed=11, **FAST)
    whole = render_script(tiny_speech_engine, script, settings)
    line = script.lines[1]
    again = render_line(tiny_speech_engine, line, settings, seed=11)
    assert np.array_equal(again.best.clip.samples, whole.lines[1][1].best.clip.samples)
    assert again.best.settings == whole.lines[1][1].best.settings
    rerolled = render_line(tiny_speech_engine, line, settings, seed=12)
    assert rerolled.best.seed == 12 and not np.array_equal(rerolled.best.clip.samples, again.best.clip.samples)

    mixed = assemble([whole.lines[0], (line, rerolled)])
    first = whole.lines[0][1].best.clip
    assert np.array_equal(mixed.joined.samples[: first.frames], first.samples)
    folder = tmp_path / "out"
    joined, lines = write_script(mixed, folder, name="show")
    written = sorted(p.name for p in folder.iterdir())
    assert written == sorted(n for name in script_file_names(mixed, "show") for n in (name, name + ".json"))
    assert read_sidecar(lines[1])["seed"] == 12 and read_sidecar(joined)["settings"]["lines"][1]["seed"] == 12


def test_script_check_with_settings_names_a_line_too_long_before_any_model_work():
    script = parse_script("Hi.\n" + "many many words " * 60 + "\n", default_voice="v")
    script.check()  # the words themselves are fine
    with pytest.raises(InputError, match="script line 2: this line needs"):
        script.check(SpeechRequest("", **FAST))
