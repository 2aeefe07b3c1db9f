"""Bar-locked music: takes that last exactly N bars at a tempo and meter, sample exact at the output rate.

    lock = BarLock(bars=4, bpm=97.0, beats_per_bar=4, ending="fade")    # beat_unit=8 for 7/8, 6/8...
    result = generate_bars(engine, request, lock)          # every candidate: bar_frames(4, 97, rate, 4) frames

Two endings, the user's choice:
- "fade": a little more than N bars is generated, cut at the bar line, with a 10 ms fade-out (no click);
- "close-loop": exactly N bars are generated, then core.incontext's close_loop regenerates the last second so
  that it flows back into the start (a seamless loop in a DAW); the length does not change.

Each candidate's settings record bars, bpm, beats_per_bar, beat_unit, ending and `bar_locked`: file names then
carry `_97bpm_4bars` (`_140bpm_7-8_2bars`) and WAV files an ACID chunk (core.audio.provenance writes both through core.tempo.bars).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from core.errors import InputError
from core.generation.engine import Engine, GenerationResult
from core.generation.progress import CancelCheck, ProgressCallback
from core.generation.requests import MAX_SECONDS, GenerationRequest
from core.tempo.bars import ENDINGS, bar_frames, bar_seconds, check_bars, check_bpm, trim_to_frames

FADE_MARGIN_SECONDS = 0.25  # generated past the bar line so the cut falls inside the music


@dataclass(frozen=True)
class BarLock:
    bars: int
    bpm: float
    beats_per_bar: int = 4
    ending: str = "fade"
    beat_unit: int = 4  # the meter's lower number; the tempo counts quarter notes

    def validated(self) -> "BarLock":
        check_bars(self.bars, self.beats_per_bar, self.beat_unit)
        check_bpm(self.bpm)
        if self.ending not in ENDINGS:
            raise InputError(f"ending {self.ending!r} is not offered; use one of {', '.join(ENDINGS)}.")
        if self.seconds > MAX_SECONDS:
            raise InputError(f"{self.bars} bars of {self.beats_per_bar}/{self.beat_unit} at {self.bpm:g} BPM last "
                             f"{self.seconds:.1f} s; generate at most {MAX_SECONDS:g} s (fewer bars or a faster tempo).")
        return self

    @property
    def seconds(self) -> float:
        return bar_seconds(self.bars, self.bpm, self.beats_per_bar, self.beat_unit)

    def frames(self, rate: int) -> int:
        return bar_frames(self.bars, self.bpm, rate, self.beats_per_bar, self.beat_unit)

    def settings(self) -> dict:
        return {"bars": self.bars, "bpm": float(self.bpm), "beats_per_bar": self.beats_per_bar,
                "beat_unit": self.beat_unit, "ending": self.ending, "bar_locked": True,
                "seconds": round(self.seconds, 6)}


def lock_of(settings: dict) -> Optional[BarLock]:
    """The bar lock a take was made with (its settings, as `BarLock.settings()` wrote them), or None: "More like
    this" re-rolls a bar-locked take with the same bars, tempo, meter and ending, not the session's current ones.
    A selection dragged out of such a take is not bar-locked any more."""
    if not settings.get("bar_locked") or "selection_seconds" in settings:
        return None
    try:
        return BarLock(int(settings["bars"]), float(settings["bpm"]), int(settings.get("beats_per_bar", 4)),
                       str(settings.get("ending", "fade")), int(settings.get("beat_unit", 4))).validated()
    except (KeyError, TypeError, ValueError, InputError):
        return None


def generate_bars(engine: Engine, request: GenerationRequest, lock: BarLock,
                  progress: Optional[ProgressCallback] = None, cancel: CancelCheck = None) -> GenerationResult:
    """Generate `request.candidates` takes of exactly `lock.bars` bars (request.seconds is replaced)."""
    lock = lock.validated()
    extra = lock.settings()
    if lock.ending == "fade":
        seconds = min(MAX_SECONDS, lock.seconds + FADE_MARGIN_SECONDS)
        result = engine.generate(replace(request, seconds=seconds), progress=progress, cancel=cancel)
        clips = [trim_to_frames(c.clip, lock.frames(c.clip.sample_rate)) for c in result.candidates]
    else:
        result = engine.generate(replace(request, seconds=lock.seconds), progress=progress, cancel=cancel)
        clips = [_closed(engine, result, c, lock, progress, cancel) for c in result.candidates]
    candidates = [replace(c, clip=clip, settings=c.settings | extra) for c, clip in zip(result.candidates, clips)]
    return replace(result, candidates=candidates, request=replace(result.request, seconds=lock.seconds))


def _closed(engine, result, candidate, lock: BarLock, progress, cancel):
    """The candidate cut to the bar line (no fade), its last second regenerated to lead into its start."""
    from core.incontext.regenerate import GenerationSettings, close_loop

    exact = trim_to_frames(candidate.clip, lock.frames(candidate.clip.sample_rate), fade_seconds=0.0)
    request = result.request
    settings = GenerationSettings(prompt=request.prompt, negative_prompt=request.negative_prompt, steps=request.steps,
                                  guidance=request.guidance, seed=candidate.seed, candidates=1,
                                  scheduler=request.scheduler)
    closed = close_loop(engine, exact, settings=settings, progress=progress, cancel=cancel).best.clip
    assert closed.frames == exact.frames  # close_loop keeps the length; the bar lock depends on it
    return closed
