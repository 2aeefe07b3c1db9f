"""Cut, copy, paste, delete, trim, insert silence, silence: operations that splice audio.

Every join between audio that was not adjacent before gets a short equal-power crossfade (`crossfade`
seconds, JOIN_CROSSFADE_SECONDS by default, 0 turns it off), so no splice clicks:

- removing [s, e) (cut, delete): the frames around the join, [s - h, s + h) of the result, blend the audio
  that used to follow s (fading out) with the audio that used to precede e (fading in), h = half the
  crossfade. The result is exactly e - s frames shorter; frames before s - h and after the join's
  s + h are the original samples.
- putting audio P into [s, e) (paste, insert silence, silence): the crossfades lie inside P's span: its
  first frames blend from the audio that used to follow s into P, its last frames from P into the audio
  that used to precede e (neither at the clip's start or end, where nothing is joined). Everything outside P's
  span is bit-exact.
"""

from __future__ import annotations

import numpy as np

from core.audio.clip import Clip, resample
from core.audio.downmix import downmix, is_standard, layout_label, peak_note
from core.audio.seams import crossfade_samples, equal_power_crossfade
from core.editing.chunks import join_frames
from core.editing.selection import Change, EditResult, Selection, unchanged
from core.errors import InputError

JOIN_CROSSFADE_SECONDS = 0.01  # 10 ms: hides the step of a splice without smearing a transient


def _fade_frames(rate: int, crossfade: float) -> int:
    if crossfade < 0:
        raise InputError(f"the crossfade must be 0 s (off) or longer; got {crossfade}.")
    return crossfade_samples(rate, crossfade) if crossfade > 0 else 0


def copy(clip: Clip, selection: Selection) -> EditResult:
    """Put the selected frames on the clipboard; the clip is unchanged."""
    sel = selection.clamped(clip.frames)
    op = {"op": "copy", **sel.to_dict()}
    if sel.is_empty:
        return unchanged(clip, sel, "Nothing selected: select audio to copy.", op)
    result = unchanged(clip, sel, "", op)
    result.clipboard = Clip(clip.samples[sel.start:sel.end].copy(), clip.sample_rate)
    return result


def delete(clip: Clip, selection: Selection, crossfade: float = JOIN_CROSSFADE_SECONDS) -> EditResult:
    """Remove the selected frames; the cursor lands where they were."""
    return _remove(clip, selection, crossfade, "delete")


def cut(clip: Clip, selection: Selection, crossfade: float = JOIN_CROSSFADE_SECONDS) -> EditResult:
    """Remove the selected frames and return them as `clipboard` (exactly as they were, without fades)."""
    result = _remove(clip, selection, crossfade, "cut")
    if result.did_change:
        sel = selection.clamped(clip.frames)
        result.clipboard = Clip(clip.samples[sel.start:sel.end].copy(), clip.sample_rate)
    return result


def _remove(clip: Clip, selection: Selection, crossfade: float, name: str) -> EditResult:
    sel = selection.clamped(clip.frames)
    s, e = sel.start, sel.end
    op = {"op": name, "start": s, "end": e, "crossfade": crossfade}
    if sel.is_empty:
        return unchanged(clip, sel, f"Nothing selected: select audio to {name}.", op)
    x = clip.samples
    h = min(_fade_frames(clip.sample_rate, crossfade) // 2, s, clip.frames - e)
    out = join_frames([x[:s], x[e:]])
    if h > 0:
        out[s - h:s + h] = equal_power_crossfade(x[s - h:s + h], x[e - h:e + h])
    return EditResult(Clip(out, clip.sample_rate), Selection.cursor(s), changed=Change(s - h, e + h, s + h),
                      operation=op)


def trim(clip: Clip, selection: Selection) -> EditResult:
    """Keep only the selected frames (Audacity's Trim Audio)."""
    sel = selection.clamped(clip.frames)
    op = {"op": "trim", **sel.to_dict()}
    if sel.is_empty:
        return unchanged(clip, sel, "Nothing selected: select the audio to keep, then trim.", op)
    if sel.length == clip.frames:
        return unchanged(clip, sel, "The whole clip is selected: trimming would keep everything.", op)
    out = Clip(join_frames([clip.samples[sel.start:sel.end]]), clip.sample_rate)
    return EditResult(out, Selection.whole(out), changed=Change(0, clip.frames, out.frames, copied_from=sel.start),
                      operation=op)


def conform(audio: Clip, rate: int, channels: int) -> tuple[np.ndarray, str]:
    """`audio` at `rate` with `channels` (soxr for the rate; downmixed to stereo or mono with
    core.audio.downmix, else its mono downmix spread), plus a note saying what was converted ('' when nothing
    was)."""
    samples, changes, extra = audio.samples, [], ""
    if audio.sample_rate != rate:
        samples = resample(samples, audio.sample_rate, rate)
        changes.append(f"{audio.sample_rate} Hz to {rate} Hz")
    if audio.channels != channels:
        if channels < audio.channels and channels <= 2:
            samples = downmix(samples, channels)
        else:
            samples = np.repeat(downmix(samples, 1), channels, axis=1).astype(np.float32)
        how = " (ITU-R BS.775 downmix)" if audio.channels > 2 and is_standard(audio.channels) else ""
        changes.append(f"{layout_label(audio.channels)} to {layout_label(channels)}{how}")
        extra = peak_note(samples) if audio.channels > 2 else ""
    note = f"Pasted audio converted from {' and '.join(changes)} to match the clip." if changes else ""
    return samples, " ".join(p for p in (note, extra) if p)


def paste(clip: Clip, selection: Selection, pasted: Clip, crossfade: float = JOIN_CROSSFADE_SECONDS) -> EditResult:
    """Replace the selection (or insert at the cursor) with `pasted`, converted to the clip's rate and
    channels; the pasted span becomes the selection."""
    samples, note = conform(pasted, clip.sample_rate, clip.channels)
    op = {"op": "paste", **selection.clamped(clip.frames).to_dict(), "frames": int(samples.shape[0]),
          "source_rate": pasted.sample_rate, "source_channels": pasted.channels, "crossfade": crossfade}
    if samples.shape[0] == 0:
        return unchanged(clip, selection.clamped(clip.frames), "The clipboard is empty: nothing to paste.", op)
    return _put(clip, selection, samples, crossfade, op, note)


def insert_silence(clip: Clip, selection: Selection, seconds: float,
                   crossfade: float = JOIN_CROSSFADE_SECONDS) -> EditResult:
    """Insert `seconds` of silence at the cursor (replacing the selection, if any, as Audacity's Generate
    Silence does); the silence becomes the selection."""
    if not (isinstance(seconds, (int, float)) and np.isfinite(seconds) and seconds > 0):
        raise InputError(f"the silence must last more than 0 s; got {seconds!r}.")
    frames = int(round(seconds * clip.sample_rate))
    if frames == 0:
        raise InputError(f"{seconds} s is shorter than one sample at {clip.sample_rate} Hz; insert more.")
    silence = np.zeros((frames, clip.channels), np.float32)
    op = {"op": "insert_silence", **selection.clamped(clip.frames).to_dict(), "seconds": seconds,
          "crossfade": crossfade}
    return _put(clip, selection, silence, crossfade, op, "")


def silence(clip: Clip, selection: Selection, crossfade: float = JOIN_CROSSFADE_SECONDS) -> EditResult:
    """Replace the selected frames by silence (Audacity's Silence Audio, Ctrl+L); the length is kept."""
    sel = selection.clamped(clip.frames)
    op = {"op": "silence", **sel.to_dict(), "crossfade": crossfade}
    if sel.is_empty:
        return unchanged(clip, sel, "Nothing selected: select audio to silence.", op)
    return _put(clip, sel, np.zeros((sel.length, clip.channels), np.float32), crossfade, op, "")


def _put(clip: Clip, selection: Selection, insert: np.ndarray, crossfade: float, op: dict, note: str) -> EditResult:
    sel = selection.clamped(clip.frames)
    s, e, n = sel.start, sel.end, insert.shape[0]
    x = clip.samples
    fade = _fade_frames(clip.sample_rate, crossfade)
    region = insert.astype(np.float32, copy=True)
    # Only a join has a seam to hide: at the clip's start or end (inserting at 0, appending) there is none, and a
    # crossfade there would leave 10 ms of copied audio at the file's edge.
    head = min(fade, n // 2, clip.frames - s) if s > 0 else 0  # the audio that followed s fades into the new audio
    tail = min(fade, n // 2, e) if e < clip.frames else 0  # the new audio fades into the audio that preceded e
    if head > 0:
        region[:head] = equal_power_crossfade(x[s:s + head], region[:head])
    if tail > 0:
        region[n - tail:] = equal_power_crossfade(region[n - tail:], x[e - tail:e])
    out = join_frames([x[:s], region, x[e:]])
    return EditResult(Clip(out, clip.sample_rate), Selection(s, s + n), note=note, changed=Change(s, e, s + n),
                      operation=op)
