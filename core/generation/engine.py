"""The engine: one resident pipeline (AudioLDM 2, or the 48 kHz AudioLDM layout: core.models.kinds) serving
generation requests.

GUI workers, the CLI and batch runners all hold an Engine and call its methods;
progress and cancellation travel through plain callbacks, so no caller-specific
code lives here. Calls are serialised by a lock: one pipeline, one job at a time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np
import torch

from core import gc_policy
from core.audio.clip import MODEL_RATE, Clip
from core.audio.provenance import Provenance
from core.devices.compute import pick_device
from core.errors import InputError, ModelNotAvailable
from core.generation.fast_path import FastPath
from core.generation.precision import default_precision
from core.generation.progress import CancelCheck, ProgressCallback, raise_if_cancelled, report
from core.generation.prompt_cache import PromptCache, PromptKey
from core.generation.prompts import fit_prompt
from core.generation.requests import GenerationRequest
from core.generation.scoring import clap_scores
from core.models.catalog import DEFAULT_MODEL
from core.models.geometry import ModelGeometry, folder_geometry, pipeline_geometry
from core.models.kinds import folder_kind, is_film, pipe_kind
from core.models.loading import is_speech_folder, load_pipeline
from core.models.store import ResolvedModel, resolve_model

from . import encoding, sampling, scorer

SPEECH_MAX_NEW_TOKENS = 512  # speech checkpoints need the long language-model rollout


@dataclass
class Candidate:
    """One generated take: its audio, CLAP score (None without a prompt), and the seed that reproduces it."""

    clip: Clip
    score: Optional[float]
    seed: int
    rank: int
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class GenerationResult:
    candidates: list[Candidate]  # best first
    request: GenerationRequest
    model_id: str
    licence: str
    device: str
    seconds_taken: float
    prompt_used: Optional[str] = None  # the words the model read when the prompt was longer than its window
    speed_note: Optional[str] = None  # why the take ran without the compiled graphs (fast_path.FastPath)
    ranking_note: Optional[str] = None  # why the takes are unranked (core.generation.scorer.NO_SCORER_NOTE)

    @property
    def best(self) -> Candidate:
        return self.candidates[0]

    @property
    def sample_rate(self) -> int:
        """The rate of the takes (the model's rate, 16000 or 48000; an in-context take's source rate)."""
        return self.candidates[0].clip.sample_rate if self.candidates else MODEL_RATE

    @property
    def notes(self) -> list[str]:
        """Things the user should know about this result (one sentence each), e.g. a cut prompt."""
        speed = [self.speed_note] if self.speed_note else []
        speed += [self.ranking_note] if self.ranking_note else []
        if self.prompt_used is None:
            return speed
        return speed + [f"the prompt is longer than the model reads; only its first {len(self.prompt_used.split())} of "
                f"{len(self.request.prompt.split())} words were used (up to \"...{self.prompt_used[-40:]}\")."]

    def provenance(self, candidate: Candidate) -> Provenance:
        return Provenance(prompt=self.request.prompt, model_id=self.model_id, licence=self.licence,
                          seed=candidate.seed, settings=candidate.settings, score=candidate.score)


class Engine:
    """Holds a loaded pipeline. The model loads on first use (or via `load()`), then stays resident."""

    def __init__(self, model: str | Path = DEFAULT_MODEL, device: str = "auto",
                 dtype: Optional[torch.dtype] = None, precision: Optional[str] = None, compile: Optional[str] = None,
                 background_compile: bool = True, low_vram: Optional[bool] = None) -> None:
        """`precision`: auto|fp32|bf16|fp16 per stage (default LOA_PRECISION, else auto; core.generation.precision);
        `compile`: auto|on|off (default LOA_COMPILE, else auto); `background_compile`: compile new shapes on a
        background thread (the window, batch) rather than only when cached on disk (one-shot commands); see
        core.generation.compiled. `low_vram`: model CPU offload on CUDA (default LOA_LOW_VRAM; a no-op with a note
        elsewhere; core.generation.low_vram)."""
        self.model_spec = str(model)
        self.device = pick_device(device)
        self.fast = FastPath(self.device, precision or default_precision(), compile, background_compile, low_vram)
        self.dtype = dtype or self.fast.plan.text
        self._resolved: Optional[ResolvedModel] = None
        self._pipe = None
        self._lock = threading.RLock()
        self.prompt_cache = PromptCache()  # bound to the loaded pipeline; emptied when it changes
        self.before_load: Optional[Callable[["Engine"], None]] = None  # the engine cache makes room here

    # ---- model -------------------------------------------------------------------------------------
    @property
    def resolved(self) -> ResolvedModel:
        if self._resolved is None:
            self._resolved = resolve_model(self.model_spec)
        return self._resolved

    @property
    def model_id(self) -> str:
        return self.resolved.id

    @property
    def licence(self) -> str:
        return self.resolved.licence

    @property
    def is_speech(self) -> bool:
        if self._pipe is not None:
            return type(getattr(self._pipe, "text_encoder_2", None)).__name__ == "VitsModel"
        return is_speech_folder(self.resolved.folder)

    @property
    def geometry(self) -> ModelGeometry:
        """The model's rate, mel front-end and latent rows: the loaded pipeline's, else its folder's configs'."""
        if self._pipe is not None:
            return pipeline_geometry(self._pipe)
        return folder_geometry(self.resolved.folder)

    @property
    def kind(self) -> str:
        """The pipeline kind (core.models.kinds): "audioldm2", or "audioldm" for the 48 kHz FiLM model."""
        if self._pipe is not None:
            return pipe_kind(self._pipe)
        return folder_kind(self.resolved.folder)

    @property
    def sample_rate(self) -> int:
        """The rate of the audio the model makes, from its vocoder config (read without loading the weights)."""
        if self._pipe is not None:
            return sampling.sample_rate(self._pipe)
        from core.models.geometry import model_front_end

        return model_front_end(self.resolved.folder).sample_rate

    @classmethod
    def from_pipeline(cls, pipe, name: str, precision: Optional[str] = None, compile: Optional[str] = None,
                      background_compile: bool = True, low_vram: Optional[bool] = None) -> "Engine":
        """Wrap an already-built pipeline (benchmarks with random full-size weights, batch workers); with
        `precision`, the fast path is set up on it as `load` would (else it runs as built)."""
        engine = cls(name, device=pipe.device.type, precision=precision or "auto",
                     compile=compile if precision else "off", background_compile=background_compile,
                     low_vram=low_vram)
        engine.dtype = pipe.dtype
        engine._resolved = ResolvedModel(id=name, folder=Path(name))
        engine._pipe = pipe
        if precision:
            engine.fast.prepare(pipe)
        return engine

    def choose_fast_path(self, precision: Optional[str] = None, compile: Optional[str] = None,
                         background_compile: bool = True, low_vram: Optional[bool] = None) -> None:
        """Another precision / compile / low-VRAM policy, before the model loads (a loaded engine keeps its own)."""
        with self._lock:
            if self._pipe is None:
                self.fast = FastPath(self.device, precision or default_precision(), compile, background_compile,
                                     low_vram)
                self.dtype = self.fast.plan.text

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    def load(self):
        """Load the pipeline if needed and return it (raises ModelNotAvailable with a clear message)."""
        with self._lock:
            if self._pipe is None:
                if self.before_load is not None:
                    self.before_load(self)  # the engine cache unloads least recently used models to make room
                with gc_policy.loading():  # then frozen: the model stays out of every later collection pass
                    self._pipe = load_pipeline(self.resolved.folder, self.fast.load_device, self.dtype)
                    self.fast.prepare(self._pipe)  # precision per stage; compiled bucket graphs
            self.prompt_cache.bind(self._pipe)
            return self._pipe

    @property
    def pipeline(self):
        return self.load()

    def unload(self) -> None:
        with self._lock:
            self._pipe = None
            self.prompt_cache.bind(None)
            if self.device.type == "cuda":
                torch.cuda.empty_cache()

    def try_unload(self) -> bool:
        """Unload unless a call is using the pipeline right now (then leave it and return False)."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self.unload()
            return True
        finally:
            self._lock.release()

    def resident_bytes(self) -> int:
        """Bytes of weights and buffers the loaded pipeline holds (0 when not loaded)."""
        pipe = self._pipe
        if pipe is None:
            return 0
        seen, total = set(), 0
        for module in pipe.components.values():
            if not isinstance(module, torch.nn.Module):
                continue
            for tensor in [*module.parameters(), *module.buffers()]:
                key = tensor.data_ptr()
                if key not in seen:
                    seen.add(key)
                    total += tensor.numel() * tensor.element_size()
        return total

    # ---- generation --------------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(self, request: GenerationRequest, progress: Optional[ProgressCallback] = None,
                 cancel: CancelCheck = None, constraint: Optional[sampling.LatentConstraint] = None,
                 mel_frames: Optional[int] = None, init_latents: Optional[torch.Tensor] = None,
                 strength: float = 1.0) -> GenerationResult:
        """Generate `request.candidates` clips, ranked by CLAP score, best first.

        Candidate i uses seed `request.seed + i`; running the same request with that seed and one
        candidate reproduces it. `constraint` and `mel_frames` serve the in-context operations;
        `init_latents` and `strength` the audio-to-audio transform (see sampling.denoise).
        """
        request = request.validated()
        started = time.perf_counter()
        with self._lock:
            speech = self.is_speech  # before load: reads model_index.json, so check it once
            if request.transcription is not None and not speech:
                raise InputError(f"{self.model_spec} is not a speech model; choose a speech checkpoint such as "
                                 "anhnct/audioldm2_gigaspeech for text-to-speech.")
            if request.transcription is None and speech:
                raise InputError(f"{self.model_spec} is a speech model and needs the words to speak "
                                 "(use `loa speak`).")
            # Speech spreads the words over the length it renders: a bucket's extra length would be cut off.
            plain = mel_frames is None and constraint is None and init_latents is None and not speech
            seconds, speed_note = self.fast.render_seconds(request.seconds, plain)
            frames = mel_frames or sampling.latent_rows_for(self.load(), seconds)  # a bucket's length: cut below
            latents, seeds, prompt_used = self.sample_latents(request, progress, cancel, constraint, frames,
                                                              init_latents, strength)
            raise_if_cancelled(cancel)
            report(progress, "decoding", 0, 1)
            rate = self.sample_rate
            n_samples = int(round(request.seconds * rate)) if mel_frames is None \
                else mel_frames * sampling.vocoder_hop(self._pipe)
            waves = sampling.decode(self._pipe, latents, n_samples)
            report(progress, "decoding", 1, 1)
            scores, scored_by, ranking_note = self.rank(request.prompt, waves, progress)
        result = self._result(request, seeds, waves, scores, time.perf_counter() - started, prompt_used, scored_by)
        result.speed_note = " ".join(n for n in (self.fast.offload.note, speed_note) if n) or None
        result.ranking_note = ranking_note
        return result

    @torch.inference_mode()
    def sample_latents(self, request: GenerationRequest, progress: Optional[ProgressCallback] = None,
                       cancel: CancelCheck = None, constraint: Optional[sampling.LatentConstraint] = None,
                       mel_frames: Optional[int] = None, init_latents: Optional[torch.Tensor] = None,
                       strength: float = 1.0) -> tuple[torch.Tensor, list[int], Optional[str]]:
        """Encode and denoise a validated `request`: the final latents (before the VAE), the seeds, and the
        prompt as cut to the encoders' window (None when whole). The benchmark compares these with the stock
        pipeline's latents."""
        with self._lock:
            pipe = self.load()
            raise_if_cancelled(cancel)
            report(progress, "encoding", 0, 1)
            prompt_used = fit_prompt(pipe, request.prompt, self.is_speech)  # encoded and scored alike
            cond = self.encode(replace(request, prompt=prompt_used) if prompt_used is not None else request)
            report(progress, "encoding", 1, 1)
            frames = mel_frames or sampling.latent_rows_for(pipe, request.seconds)
            seeds = [request.seed + i for i in range(request.candidates)]
            noise = sampling.initial_noise(pipe, seeds, frames, self.device, cond.prompt_embeds.dtype)
            scheduler = sampling.make_scheduler(pipe, request.scheduler, request.steps)
            latents = sampling.denoise(pipe, scheduler, cond, noise, request.steps, request.guidance,
                                       progress=progress, cancel=cancel, constraint=constraint,
                                       init_latents=init_latents, strength=strength)
        return latents, seeds, prompt_used

    @torch.inference_mode()
    def encode(self, request: GenerationRequest) -> sampling.Conditioning:
        """The request's prompt embeddings; a repeat of an earlier prompt (any seed, steps or duration) comes
        from the prompt cache without running the encoders."""
        pipe = self.pipeline
        kind = pipe_kind(pipe)
        guided = request.guidance > 1.0
        max_new_tokens = SPEECH_MAX_NEW_TOKENS if request.transcription is not None else None
        key = PromptKey(request.prompt, request.negative_prompt or "", request.transcription, request.candidates,
                        guided, max_new_tokens, kind)

        def run_encoders():
            return encoding.encode_values(pipe, kind, request.prompt, self.device, request.candidates, guided,
                                          request.negative_prompt, request.transcription, max_new_tokens)

        return encoding.conditioning(self.prompt_cache.get_or_encode(key, run_encoders), kind, guided)

    def score(self, prompt: str, waves: np.ndarray, progress: Optional[ProgressCallback] = None,
              rate: Optional[int] = None) -> list:
        """CLAP scores of `waves` (at `rate`, default the model's) against `prompt`; None each when unranked."""
        return self.rank(prompt, waves, progress, rate)[0]

    def rank(self, prompt: str, waves: np.ndarray, progress: Optional[ProgressCallback] = None,
             rate: Optional[int] = None) -> tuple[list, Optional[str], Optional[str]]:
        """(scores, the scorer's name for provenance or None, a note when unranked). AudioLDM 2 pipelines rank
        with their own CLAP (scorer None: as before); the FiLM kind with an installed AudioLDM 2 model's CLAP
        (core.generation.scorer), resampled from the model's rate to CLAP's."""
        if not prompt:
            return [None] * len(waves), None, None
        prompt = fit_prompt(self.pipeline, prompt, self.is_speech) or prompt
        rate = rate or self.sample_rate
        clap, scored_by = self.pipeline, None
        if is_film(self.kind):
            try:
                clap = scorer.borrowed_clap(self.device)
            except (InputError, ModelNotAvailable) as exc:  # a damaged lender costs the ranking, not the takes
                return [None] * len(waves), scorer.UNRANKED_BROKEN, scorer.broken_note(str(exc))
            if clap is None:
                return [None] * len(waves), scorer.UNRANKED, scorer.NO_SCORER_NOTE
            scored_by = clap.name
        report(progress, "scoring", 0, 1)
        scores = clap_scores(clap, prompt, waves, rate)
        report(progress, "scoring", 1, 1)
        return [float(s) for s in scores], scored_by, None

    def _result(self, request: GenerationRequest, seeds: list[int], waves: np.ndarray, scores: list,
                elapsed: float, prompt_used: Optional[str] = None, scored_by: Optional[str] = None
                ) -> GenerationResult:
        # Stable sort: without scores (no prompt) the candidates keep seed order.
        order = sorted(range(len(seeds)), key=lambda i: -(scores[i] if scores[i] is not None else 0.0))
        rate = self.sample_rate
        candidates = []
        for rank, i in enumerate(order):
            settings = replace(request, seed=seeds[i], candidates=1).settings()
            settings.pop("allow_empty_prompt", None)
            if prompt_used is not None:
                settings["prompt_used"] = prompt_used
            if scored_by is not None:
                settings["scored_by"] = scored_by
            candidates.append(Candidate(Clip(waves[i], rate), scores[i], seeds[i], rank, settings))
        return GenerationResult(candidates, request, self.model_id, self.licence, str(self.device), elapsed,
                                prompt_used)

