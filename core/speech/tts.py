"""Text-to-speech on the speech checkpoints: a described voice, or a voice from a reference recording.

`speak()` normalises the words, checks them against the checkpoint's own phoneme tokenizer,
derives the duration from the text unless one is given, and runs the engine with the words as
`transcription` and the voice description as the prompt (candidates ranked by CLAP against the
description). With a ReferenceVoice, the reference becomes the known start of the latent, the
model speaks "reference words + new words", and the reference part is cut off the result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

import numpy as np

from core.audio.clip import MODEL_RATE, Clip
from core.errors import InputError
from core.generation import sampling
from core.generation.defaults import SPEECH
from core.generation.engine import Candidate, Engine, GenerationResult
from core.generation.progress import CancelCheck, ProgressCallback
from core.generation.requests import DEFAULT_SCHEDULER, MAX_SECONDS, GenerationRequest

from .defaults import DEFAULT_VOICE
from .reference import ReferenceVoice
from .text import check_speakable, estimate_seconds, normalize_text

DEFAULT_STEPS = SPEECH.steps
DEFAULT_GUIDANCE = SPEECH.guidance


@dataclass(frozen=True)
class SpeechRequest:
    """What to say and how: `voice` describes the speaker; `seconds=None` derives the length from the text."""

    text: str
    voice: str = DEFAULT_VOICE
    seconds: Optional[float] = None
    negative_prompt: str = ""
    steps: int = DEFAULT_STEPS
    guidance: float = DEFAULT_GUIDANCE
    seed: Optional[int] = None
    candidates: int = 1
    scheduler: str = DEFAULT_SCHEDULER

    def words(self) -> str:
        return normalize_text(self.text)

    def generation_request(self, words: Optional[str] = None) -> GenerationRequest:
        """The engine request: voice as prompt, spelled-out words as transcription; validated."""
        words = words if words is not None else self.words()
        seconds = self.seconds if self.seconds is not None else estimate_seconds(words)
        if seconds > MAX_SECONDS and self.seconds is None:  # a given --seconds is checked by the request itself
            raise InputError(f"this line needs {seconds:.1f} s, more than the {MAX_SECONDS:g} s limit; split it "
                             "into sentences and speak them as a script (loa speak --script).")
        return GenerationRequest(prompt=self.voice.strip() or DEFAULT_VOICE, negative_prompt=self.negative_prompt,
                                 seconds=seconds, steps=self.steps, guidance=self.guidance, seed=self.seed,
                                 candidates=self.candidates, scheduler=self.scheduler,
                                 transcription=words).validated()


def speak(engine: Engine, request: SpeechRequest, reference: Optional[ReferenceVoice] = None,
          progress: Optional[ProgressCallback] = None, cancel: CancelCheck = None) -> GenerationResult:
    """Speak `request.text`; candidates best first, each reproducible from its recorded seed and settings."""
    words = request.words()
    request.generation_request(words)  # bad numbers are reported before the model loads
    if reference is not None:
        check_reference_fits(request, reference, words)
    require_speech_model(engine)
    if reference is not None:
        return _speak_after_reference(engine, request, words, reference, progress, cancel)
    check_speakable(engine.pipeline.tokenizer_2, words, request.text)
    result = engine.generate(request.generation_request(words), progress=progress, cancel=cancel)
    return _with_settings(result, {"text": request.text})


def require_speech_model(engine: Engine) -> None:
    if not engine.is_speech:
        raise InputError(f"{engine.model_spec} is not a speech model; use anhnct/audioldm2_gigaspeech (many "
                         "voices) or anhnct/audioldm2_ljspeech (one voice) with --model.")


# ---- a voice from a reference recording ----------------------------------------------------------

@dataclass
class ReferencePrefix:
    """The reference as the known start of the latent: `rows` latent rows, `samples` audio samples."""

    latent: object  # torch.Tensor (1, C, rows, F) in denoiser space
    rows: int
    samples: int


def reference_prefix(engine: Engine, reference: ReferenceVoice) -> ReferencePrefix:
    """Encode the reference through the model's mel front-end and VAE."""
    from core.generation.latents import encode_clip

    pipe = engine.pipeline
    latent = encode_clip(pipe, reference.clip)
    rows = int(latent.shape[2])
    return ReferencePrefix(latent, rows, rows * pipe.vae_scale_factor * sampling.vocoder_hop(pipe))


def reference_plan(engine: Engine, request: SpeechRequest, reference: ReferenceVoice,
                   words: Optional[str] = None):
    """The engine request, latent constraint and total mel frames for speaking after `reference`.

    Returned as (generation_request, constraint, mel_frames, prefix); `speak` runs exactly this.
    """
    from core.generation.latents import KnownRegion

    words = words if words is not None else request.words()
    pipe = engine.pipeline
    prefix = reference_prefix(engine, reference)
    spoken = f"{reference.text} {words}"
    check_speakable(pipe.tokenizer_2, spoken, f"{reference.text} {request.text}")
    new_seconds = request.seconds if request.seconds is not None else estimate_seconds(words)
    new_frames = sampling.latent_rows_for(pipe, new_seconds)
    mel_frames = prefix.rows * pipe.vae_scale_factor + new_frames
    seconds = mel_frames * sampling.vocoder_hop(pipe) / MODEL_RATE
    _refuse_too_long(reference, new_seconds, seconds)
    gen = replace(request, seconds=seconds).generation_request(spoken)
    known = np.zeros(mel_frames // pipe.vae_scale_factor, dtype=bool)
    known[: prefix.rows] = True
    constraint = KnownRegion(pipe, prefix_latent(prefix.latent, known), known, seed=gen.seed)
    return gen, constraint, mel_frames, prefix


def check_reference_fits(request: SpeechRequest, reference: ReferenceVoice, words: Optional[str] = None) -> None:
    """Before any model work: the reference and the new words must fit the model's window together
    (reference_plan repeats this on the exact latent grid)."""
    words = words if words is not None else request.words()
    new_seconds = request.seconds if request.seconds is not None else estimate_seconds(words)
    _refuse_too_long(reference, new_seconds, reference.seconds + new_seconds)


def _refuse_too_long(reference: ReferenceVoice, new_seconds: float, seconds: float) -> None:
    if seconds > MAX_SECONDS:
        raise InputError(f"the reference ({reference.seconds:.1f} s) and the new words ({new_seconds:.1f} s) "
                         f"need {seconds:.1f} s together, more than {MAX_SECONDS:g} s; speak fewer words per line.")


def prefix_latent(latent, known: np.ndarray):
    """The reference latent placed at the start of a latent as long as `known` (zeros after it)."""
    import torch

    full = torch.zeros((*latent.shape[:2], len(known), latent.shape[3]), dtype=latent.dtype, device=latent.device)
    full[:, :, : latent.shape[2]] = latent
    return full


def _speak_after_reference(engine: Engine, request: SpeechRequest, words: str, reference: ReferenceVoice,
                           progress: Optional[ProgressCallback], cancel: CancelCheck) -> GenerationResult:
    gen, constraint, mel_frames, prefix = reference_plan(engine, request, reference, words)
    result = engine.generate(gen, progress=progress, cancel=cancel, constraint=constraint, mel_frames=mel_frames)
    clips = [Clip(c.clip.samples[prefix.samples:], c.clip.sample_rate) for c in result.candidates]
    # Rank on the new words alone: the reference part is the same in every candidate.
    scores = engine.score(gen.prompt, np.stack([clip.mono for clip in clips]))
    order = sorted(range(len(clips)), key=lambda i: -(scores[i] if scores[i] is not None else 0.0))
    cut = [Candidate(clips[i], scores[i], result.candidates[i].seed, rank, result.candidates[i].settings)
           for rank, i in enumerate(order)]
    result = replace(result, candidates=cut)
    return _with_settings(result, {"text": request.text, "seconds": round(cut[0].clip.seconds, 6),
                                   "total_seconds": gen.seconds,
                                   "reference": reference.source, "reference_text": reference.text,
                                   "reference_seconds": round(reference.seconds, 6)})


def _with_settings(result: GenerationResult, extra: dict) -> GenerationResult:
    """Record what the user typed (and the reference used) beside the engine's settings."""
    for candidate in result.candidates:
        candidate.settings = {**candidate.settings, **extra}
    return result
