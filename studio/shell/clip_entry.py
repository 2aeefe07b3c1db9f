"""ClipEntry: one piece of audio the window shows (a fresh candidate or a library item) with its origin.

Cards, library rows, the waveform view, playback and drag-out all take a ClipEntry, so they never
need to know whether the audio came from a job a second ago or from the library last week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from core.audio.clip import Clip
from core.audio.naming import take_title
from core.audio.provenance import Provenance
from core.generation.engine import Candidate, GenerationResult
from core.library.store import LibraryItem


@dataclass
class ClipEntry:
    clip: Clip
    prompt: str
    mode: str
    model: str
    licence: str
    seed: Optional[int] = None
    score: Optional[float] = None
    settings: dict[str, Any] = field(default_factory=dict)
    library_id: Optional[int] = None  # set once the clip is stored in the library
    kept: bool = False
    favourite: bool = False

    @classmethod
    def from_candidate(cls, result: GenerationResult, candidate: Candidate, mode: str) -> "ClipEntry":
        return cls(clip=candidate.clip, prompt=result.request.prompt, mode=mode, model=result.model_id,
                   licence=result.licence, seed=candidate.seed, score=candidate.score,
                   settings=dict(candidate.settings))

    @classmethod
    def from_library(cls, item: LibraryItem) -> "ClipEntry":
        return cls(clip=item.load_clip(), prompt=item.prompt, mode=item.mode, model=item.model,
                   licence=item.licence, seed=item.seed, score=item.score, settings=dict(item.settings),
                   library_id=item.id, kept=item.kept, favourite=item.favourite)

    def provenance(self) -> Provenance:
        return Provenance(prompt=self.prompt, model_id=self.model, licence=self.licence, seed=self.seed,
                          settings=dict(self.settings), score=self.score)

    @property
    def title(self) -> str:
        return take_title(self.prompt, self.settings)

    @property
    def label(self) -> str:
        seed = f"seed {self.seed}" if self.seed is not None else "no seed"
        score = f"score {self.score:.3f}" if self.score is not None else "unscored"
        bars = self.bars_text
        return f"{score} · {seed}" + (f" · {bars}" if bars else "")

    @property
    def bars_text(self) -> str:
        """"4 bars · 128 BPM" for a bar-locked take (its own bars and tempo), "" otherwise."""
        from core.generation.bar_locked import lock_of

        lock = lock_of(self.settings)
        if lock is None:
            return ""
        return f"{lock.bars} bar{'s' if lock.bars != 1 else ''} · {lock.bpm:.1f} BPM" \
            + (f" ({lock.beats_per_bar}/4)" if lock.beats_per_bar != 4 else "")
