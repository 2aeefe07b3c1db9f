"""A voice from a reference recording: the reference is the exact known prefix of the latent, then cut off."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.audio.clip import load_clip
from core.audio.provenance import read_sidecar
from core.cli.main import main
from core.generation.latents import encode_clip
from core.speech import ReferenceVoice, SpeechRequest, speak
from core.speech.tts import reference_plan

FAST = dict(steps=3, guidance=2.0)



@pytest.fixture(scope="module")
def speech_file(corpus_files):
    return next(p for p in corpus_files if p.name.startswith("speech_"))  # "Front center", 48 kHz mono


class FinalLatents:
    """Wraps the plan's constraint and keeps the latent it leaves after the last step (it changes nothing)."""

    def __init__(self, inner):
        self.inner, self.final = inner, None

    def start(self, latents, first_timestep):
        return self.inner.start(latents, first_timestep)

    def after_step(self, latents, next_timestep):
        latents = self.inner.after_step(latents, next_timestep)
        if next_timestep is None:
            self.final = latents.clone()
        return latents


def test_reference_is_the_exact_latent_prefix_and_is_cut_from_the_output(tiny_speech_engine, speech_file):
    engine = tiny_speech_engine
    pipe = engine.pipeline
    reference = ReferenceVoice.from_file(speech_file, "Front center.")
    request = SpeechRequest("Hello there.", voice="a man speaking", seed=3, candidates=2, **FAST)

    gen, constraint, mel_frames, prefix = reference_plan(engine, request, reference)
    assert gen.transcription == "Front center. Hello there."
    assert prefix.rows == reference.clip.frames // 640 and prefix.samples == reference.clip.frames
    recorder = FinalLatents(constraint)
    full = engine.generate(gen, constraint=recorder, mel_frames=mel_frames)

    known = encode_clip(pipe, reference.clip)
    for row in range(2):  # every candidate starts with the reference, exactly
        assert torch.equal(recorder.final[row:row + 1, :, : prefix.rows], known)
    assert not torch.allclose(recorder.final[0, :, prefix.rows:], recorder.final[1, :, prefix.rows:])

    result = speak(engine, request, reference=reference)
    new_samples = mel_frames * 160 - prefix.samples
    by_seed = {c.seed: c for c in full.candidates}
    scores = [c.score for c in result.candidates]  # ranked on the new words alone
    assert scores == sorted(scores, reverse=True) and [c.rank for c in result.candidates] == [0, 1]
    for candidate in result.candidates:
        assert candidate.clip.frames == new_samples
        whole = by_seed[candidate.seed].clip.samples
        np.testing.assert_array_equal(candidate.clip.samples, whole[prefix.samples:])
    best = result.best
    assert best.settings["reference"] == speech_file.name
    assert best.settings["reference_text"] == "Front center."
    assert best.settings["transcription"] == "Front center. Hello there."
    assert best.settings["seconds"] == pytest.approx(new_samples / 16000)


def test_the_reference_shapes_the_new_speech(tiny_speech_engine, speech_file):
    """Same words and seed after a different recording: the spoken part differs."""
    from core.audio.clip import Clip

    original = ReferenceVoice.from_file(speech_file, "Front center.")
    stereo_22k = ReferenceVoice.from_clip(load_clip(speech_file).resampled(22050).with_channels(2), "Front center.")
    assert stereo_22k.clip.frames == pytest.approx(original.clip.frames, abs=640)  # any rate, any channels
    reversed_voice = ReferenceVoice(Clip(original.clip.samples[::-1].copy(), 16000), original.text)
    request = SpeechRequest("Hi.", seconds=1.0, seed=5, **FAST)
    a = speak(tiny_speech_engine, request, reference=original).best.clip.samples
    b = speak(tiny_speech_engine, request, reference=reversed_voice).best.clip.samples
    assert a.shape == b.shape == (16000, 1)
    assert not np.allclose(a, b)


def test_cli_speaks_in_the_voice_of_a_recording(tiny_speech_model_dir, speech_file, tmp_path, capsys):
    out = tmp_path / "fix.wav"
    code = main(["speak", "Sorry.", "--reference", str(speech_file), "--reference-text", "Front center.",
                 "--seconds", "1", "--seed", "2", "--steps", "2", "--model", str(tiny_speech_model_dir), "-o", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert load_clip(out).frames == 16000  # only the new words: the reference was cut off
    sidecar = read_sidecar(out)
    assert sidecar["settings"]["reference"] == speech_file.name and sidecar["seed"] == 2
