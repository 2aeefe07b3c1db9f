"""Where takes land: the library (with device, rate, channels and time) and, for a punch-in, the edited clip.

Plain functions over core objects, so tests call them without a window.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.audio.clip import Clip
from core.devices.recording import RecordedTake
from core.devices.takes import PendingTake
from core.editing import Selection, splice
from core.library.store import Library, LibraryItem
from studio.shell.clip_entry import ClipEntry

MODE = "recording"
LICENCE = "your own recording"


def store_take(library: Library, take: RecordedTake, number: int) -> LibraryItem:
    """Store a finished take as "Take N" (mode "recording", its device where a model would be), kept."""
    return library.add(take.clip, prompt=f"Take {number}", mode=MODE, model=take.device, licence=LICENCE,
                       settings={**take.details(), "take": number}, kept=True, created=take.started)


def store_pending(library: Library, take: PendingTake) -> LibraryItem:
    """Store a take a crash or kill left behind, marked as recovered."""
    clip = take.load()
    settings = {"device": take.device, "sample_rate": clip.sample_rate, "channels": clip.channels,
                "recorded_at": take.started, "seconds": round(clip.seconds, 3), "recovered": True}
    for key in ("fault", "dropped_frames"):
        if take.note.get(key):
            settings[key] = take.note[key]
    return library.add(clip, prompt="Recovered take", mode=MODE, model=take.device, licence=LICENCE,
                       settings=settings, kept=True, created=take.started or None)


@dataclass
class PunchResult:
    entry: ClipEntry
    clip: Clip
    selection: Selection  # the replaced span in the new clip, in frames
    message: str


def punched_clip(base: Clip, punch: tuple[float, float], take: Clip):
    """The base clip with [start, end) seconds replaced by the take (cut to the selection's length when longer;
    converted to the base's rate and channels). Returns core.editing's EditResult."""
    start, end = punch
    selection = Selection.from_seconds(start, end, base.sample_rate).clamped(base.frames)
    longest = int(round((end - start) * take.sample_rate))
    if take.frames > longest:
        take = Clip(take.samples[:longest], take.sample_rate)
    return splice.paste(base, selection, take)


def punch_in(library: Library, base: ClipEntry, punch: tuple[float, float], take: RecordedTake) -> PunchResult:
    """Replace the selected range of `base` with the take and store the result as a new library item derived
    from the base (the base itself is never overwritten)."""
    result = punched_clip(base.clip, punch, take.clip)
    settings = {**base.settings, "derived_from": base.library_id,
                "operations": [{**result.operation, "op": "punch_in", "take_device": take.device,
                                "recorded_at": take.started}]}
    prompt = base.prompt if base.prompt.endswith("(punch-in)") else f"{base.prompt} (punch-in)"
    item = library.add(result.clip, prompt=prompt, mode=base.mode, model=base.model, licence=base.licence,
                       seed=base.seed, settings=settings, kept=True)
    entry = ClipEntry.from_library(item)
    start, end = punch
    message = (f"Punched in {end - start:.2f} s at {start:.2f} s of “{base.prompt}”; stored as a new version"
               + (f" ({result.note})" if result.note else "") + ".")
    return PunchResult(entry, result.clip, result.selection, message)
