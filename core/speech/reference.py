"""A voice from the user's own recording: checking it and preparing it as a known prefix.

The user gives a few seconds of someone speaking and the words said in it. The clip goes
through the model's mel front-end and VAE (core.audio.mel / core.generation.latents) and becomes the known
start of the latent; the model then speaks "reference words + new words" with that start held
fixed, and the reference part is cut off again. This is the latent-prefix route to the paper's
speaker-style control (the paper's AudioMAE path is not in the public checkpoints).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from core.audio.clip import MODEL_RATE, Clip, load_clip
from core.errors import InputError

from .text import normalize_text

MIN_REFERENCE_SECONDS = 1.0  # less carries too little of a voice
MAX_REFERENCE_SECONDS = 8.0  # leaves room for new words inside the model's ~10 s training window
MIN_VOICED_SECONDS = 0.3
SILENCE_DB = -50.0  # frames quieter than this (re full scale) count as silence
EDGE_KEEP_SECONDS = 0.05  # breath of room kept around the trimmed speech
FRAME = 640  # 40 ms at 16 kHz: one latent row, the grid the prefix snaps to
PITCH_RANGE_HZ = (65.0, 400.0)
VOICED_CORRELATION = 0.6
MIN_PITCH_SPREAD_SEMITONES = 1.0  # a held tone or a beep has one pitch; a voice moves


@dataclass(frozen=True)
class ReferenceVoice:
    """A checked reference: 16 kHz mono speech trimmed of edge silence, and its normalised words."""

    clip: Clip
    text: str
    source: str = "reference"
    path: Optional[Path] = field(default=None, compare=False)  # the recording's file, never to be written over

    @classmethod
    def from_file(cls, path: str | Path, text: str) -> "ReferenceVoice":
        path = Path(path)
        return cls.from_clip(load_clip(path), text, source=path.name, path=path)

    @classmethod
    def from_clip(cls, clip: Clip, text: str, source: str = "reference",
                  path: Optional[str | Path] = None) -> "ReferenceVoice":
        """Check the recording (any rate, any channels) and the words said in it; raise InputError if unusable."""
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"the reference {source} needs the words spoken in it (--reference-text).")
        words = normalize_text(text)
        return cls(checked_reference_audio(clip, source), words, source, Path(path) if path is not None else None)

    @property
    def seconds(self) -> float:
        return self.clip.seconds


def checked_reference_audio(clip: Clip, source: str = "reference") -> Clip:
    """The recording as the model hears it (16 kHz mono, edge silence trimmed) if it is 1-8 s of a voice
    speaking; else InputError saying what is wrong. Needs no words, so a window can check it on pick."""
    wave = trim_silence(clip.for_model())
    seconds = len(wave) / MODEL_RATE
    if seconds < MIN_REFERENCE_SECONDS:
        raise InputError(f"the reference {source} has {seconds:.2f} s of sound; give at least "
                         f"{MIN_REFERENCE_SECONDS:g} s of someone speaking.")
    if seconds > MAX_REFERENCE_SECONDS:
        raise InputError(f"the reference {source} is {seconds:.1f} s long; give at most "
                         f"{MAX_REFERENCE_SECONDS:g} s (cut one or two sentences).")
    voiced, spread = voicing(wave)
    if voiced < MIN_VOICED_SECONDS or spread < MIN_PITCH_SPREAD_SEMITONES:
        raise InputError(f"no speech found in the reference {source}; give a recording of a voice "
                         "speaking (not silence, noise, a tone or music).")
    return Clip(wave, MODEL_RATE)


def frame_db(wave: np.ndarray, frame: int = 320) -> np.ndarray:
    """RMS level of consecutive frames in dB relative to full scale."""
    n = len(wave) // frame
    frames = wave[: n * frame].reshape(n, frame)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def trim_silence(wave: np.ndarray) -> np.ndarray:
    """Cut leading and trailing silence (keeping a short margin), then pad to whole 40 ms latent rows."""
    frame = 320
    db = frame_db(wave, frame)
    loud = np.flatnonzero(db > SILENCE_DB)
    if len(loud) == 0:
        return np.zeros(0, np.float32)
    keep = int(EDGE_KEEP_SECONDS * MODEL_RATE)
    start = max(0, loud[0] * frame - keep)
    end = min(len(wave), (loud[-1] + 1) * frame + keep)
    trimmed = wave[start:end].astype(np.float32)
    pad = (-len(trimmed)) % FRAME
    return np.pad(trimmed, (0, pad))


def voicing(wave: np.ndarray) -> tuple[float, float]:
    """Seconds of voiced sound, and the spread of its pitch in semitones (standard deviation).

    Voiced = a 40 ms frame that is not silent and whose normalised autocorrelation peaks above
    VOICED_CORRELATION at a lag within the range of human pitch. Noise has no such peak; a tone has
    one pitch; speech has both voicing and a moving pitch.
    """
    frame = FRAME
    n = len(wave) // frame
    if n == 0:
        return 0.0, 0.0
    frames = wave[: n * frame].reshape(n, frame).astype(np.float64)
    frames = frames - frames.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(frames, 2 * frame, axis=1)
    corr = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :frame]
    energy = corr[:, :1]
    lo, hi = int(MODEL_RATE / PITCH_RANGE_HZ[1]), int(MODEL_RATE / PITCH_RANGE_HZ[0])
    # Unbiased autocorrelation: divide by the overlap so longer lags are not penalised.
    overlap = (frame - np.arange(lo, hi)) / frame
    normalised = corr[:, lo:hi] / np.maximum(energy, 1e-12) / overlap
    peak = normalised.max(axis=1)
    # The period is the first local maximum near the highest one (multiples of it score as high).
    inner = normalised[:, 1:-1]
    local_max = (inner > normalised[:, :-2]) & (inner >= normalised[:, 2:]) & (inner >= 0.9 * peak[:, None])
    has_period = local_max.any(axis=1)  # no inner maximum: the pitch is outside the human range
    lag = np.where(has_period, local_max.argmax(axis=1) + 1, 0) + lo
    voiced = has_period & (peak > VOICED_CORRELATION) & (frame_db(wave, frame) > SILENCE_DB + 10)
    if voiced.sum() < 2:
        return float(voiced.sum() * frame / MODEL_RATE), 0.0
    semitones = 12 * np.log2(MODEL_RATE / lag[voiced])
    return float(voiced.sum() * frame / MODEL_RATE), float(np.std(semitones))
