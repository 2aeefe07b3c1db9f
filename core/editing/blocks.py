"""Immutable sample blocks on disk, and clip versions as lists of references into them.

As in Audacity's sample blocks, an edit stores only the frames it changed: a version is a list of
`Ref(block, offset, frames)` pieces, and the frames an edit kept are references into the blocks earlier
versions already wrote. A block is raw float32 (frames x channels) written to a temp file and renamed,
so a block file either is complete or does not exist.
"""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from core.editing.chunks import for_pieces

BLOCK_SUFFIX = ".f32"
COMPARE_CHUNK = 1 << 20  # frames compared at a time when diffing two versions


@dataclass(frozen=True)
class Ref:
    """`frames` frames of `block`, starting at frame `offset` in it, multiplied in turn by each of `gains`
    (float32 values) and played backwards when `reversed`. Gain and reverse edits store no audio, only
    this: replaying the float32 multiplications (and the reversal, which is exact) gives back exactly the
    array the edit made."""

    block: str
    offset: int
    frames: int
    gains: tuple[float, ...] = ()
    reversed: bool = False

    def to_list(self) -> list:
        tail = [list(self.gains), 1] if self.reversed else [list(self.gains)] if self.gains else []
        return [self.block, self.offset, self.frames] + tail

    @classmethod
    def from_list(cls, item) -> "Ref":
        gains = tuple(float(g) for g in item[3]) if len(item) > 3 else ()
        return cls(str(item[0]), int(item[1]), int(item[2]), gains, len(item) > 4 and bool(item[4]))


def slice_refs(refs: list[Ref], start: int, end: int) -> list[Ref]:
    """The references covering frames [start, end) of the sequence `refs`."""
    out, pos = [], 0
    for ref in refs:
        r0, r1 = pos, pos + ref.frames
        pos = r1
        lo, hi = max(start, r0), min(end, r1)
        if lo < hi:
            # a reversed piece's sequence runs from the end of its block range back to the start
            offset = ref.offset + (r1 - hi if ref.reversed else lo - r0)
            out.append(Ref(ref.block, offset, hi - lo, ref.gains, ref.reversed))
        if pos >= end:
            break
    return out


def merge_refs(refs: list[Ref]) -> list[Ref]:
    """Join neighbouring pieces that continue each other in one block (keeps versions short)."""
    out: list[Ref] = []
    for ref in refs:
        if ref.frames == 0:
            continue
        last = out[-1] if out else None
        if last and (last.block, last.gains, last.reversed) == (ref.block, ref.gains, ref.reversed):
            if not ref.reversed and last.offset + last.frames == ref.offset:
                out[-1] = Ref(ref.block, last.offset, last.frames + ref.frames, ref.gains)
                continue
            if ref.reversed and ref.offset + ref.frames == last.offset:
                out[-1] = Ref(ref.block, ref.offset, last.frames + ref.frames, ref.gains, True)
                continue
        out.append(ref)
    return out


def reverse_refs(refs: list[Ref]) -> list[Ref]:
    """The sequence `refs` played backwards."""
    return [Ref(r.block, r.offset, r.frames, r.gains, not r.reversed) for r in reversed(refs)]


def refs_after_change(refs: list[Ref], old, new, change, store: "BlockStore") -> list[Ref]:
    """The references of clip `new`, made from `old` (whose references are `refs`) by an edit that changed
    `change` (a core.editing.selection.Change): kept frames stay references, a trim is a slice, a gain or a
    reverse is a factor or a direction on references, and only other changed frames are written to `store`."""
    if new.sample_rate != old.sample_rate or new.channels != old.channels:
        change = type(change)(0, old.frames, new.frames)
    kept_head = slice_refs(refs, 0, change.start)
    kept_tail = slice_refs(refs, change.old_end, old.frames)
    if new.channels != old.channels:
        kept_head, kept_tail = [], []
    if change.copied_from is not None:
        middle = slice_refs(refs, change.copied_from, change.copied_from + change.new_end - change.start)
    elif (change.scale is not None or change.reversed) and change.old_end == change.new_end \
            and (new.sample_rate, new.channels) == (old.sample_rate, old.channels):
        middle = slice_refs(refs, change.start, change.old_end)
        if change.scale is not None:
            middle = [Ref(r.block, r.offset, r.frames, r.gains + (change.scale,), r.reversed) for r in middle]
        if change.reversed:
            middle = reverse_refs(middle)
    elif change.new_end > change.start:
        middle = [Ref(store.write(new.samples[change.start:change.new_end]), 0, change.new_end - change.start)]
    else:
        middle = []
    return merge_refs(kept_head + middle + kept_tail)


class BlockStore:
    """A folder of block files."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, block: str) -> Path:
        return self.folder / (block + BLOCK_SUFFIX)

    def new_id(self) -> str:
        return uuid.uuid4().hex

    def write(self, samples: np.ndarray, block: str | None = None, durable: bool = False) -> str:
        """Store a (frames, channels) float32 array as a new block (id `block`, or a new one); return its id.
        The file appears complete or not at all (temp file + rename); `durable` fsyncs it before the rename."""
        block = block or self.new_id()
        final = self.path(block)
        temp = final.with_name(final.name + ".tmp")
        with open(temp, "wb") as f:
            np.ascontiguousarray(samples, dtype=np.float32).tofile(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(temp, final)
        return block

    def sync(self, blocks) -> None:
        """fsync the given block files (those still there) and the folder that names them."""
        for block in blocks:
            try:
                fd = os.open(self.path(block), os.O_RDONLY)
            except FileNotFoundError:
                continue  # collected since: nothing to keep
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        sync_folder(self.folder)

    def complete(self, ref: Ref, channels: int) -> bool:
        """Whether `ref`'s block is on disk and long enough for it."""
        try:
            size = self.path(ref.block).stat().st_size
        except OSError:
            return False
        return size >= (ref.offset + ref.frames) * 4 * channels

    def read_into(self, refs: list[Ref], out: np.ndarray) -> np.ndarray:
        """Fill `out` (frames, channels) with the sequence `refs`. A long piece is read on all cores in
        cache-sized parts, each part's gains (the same float32 multiplications the gain edits made, in
        order) and reversal applied while it is in cache: one pass over memory however many gains."""
        channels = out.shape[1]
        frame_bytes = 4 * channels
        pos = 0
        for ref in refs:
            dest = out[pos:pos + ref.frames]
            fd = os.open(self.path(ref.block), os.O_RDONLY | getattr(os, "O_BINARY", 0))
            try:
                if os.fstat(fd).st_size < (ref.offset + ref.frames) * frame_bytes:
                    raise ValueError(f"block {ref.block} is shorter than its references")
                for_pieces(0, ref.frames, partial(_read_piece, fd, ref, dest, frame_bytes))
            finally:
                os.close(fd)
            pos += ref.frames
        if pos != out.shape[0]:
            raise ValueError(f"version references {pos} frames, expected {out.shape[0]}")
        return out

    def read(self, refs: list[Ref], frames: int, channels: int) -> np.ndarray:
        return self.read_into(refs, np.empty((frames, channels), np.float32))

    def existing(self) -> set[str]:
        return {p.name[: -len(BLOCK_SUFFIX)] for p in self.folder.glob("*" + BLOCK_SUFFIX)}

    def remove(self, blocks, writing=frozenset()) -> None:
        """Delete `blocks`, and the temp files of interrupted writes (not those of blocks in `writing`)."""
        for block in blocks:
            self.path(block).unlink(missing_ok=True)
        for temp in self.folder.glob("*.tmp"):  # a write a crash interrupted
            if temp.name[:-len(BLOCK_SUFFIX + ".tmp")] not in writing:
                temp.unlink(missing_ok=True)

    def bytes_used(self) -> int:
        return sum(p.stat().st_size for p in self.folder.glob("*" + BLOCK_SUFFIX))


def _read_piece(fd: int, ref: Ref, dest: np.ndarray, frame_bytes: int, a: int, b: int) -> None:
    """Frames [a, b) of `ref`'s sequence into dest[a:b]: read straight into `out` (no temporary, no mapped
    pages counted as ours); a reversed piece's frames a..b are block frames from its end, read then flipped."""
    first = ref.offset + (ref.frames - b if ref.reversed else a)
    piece = dest[a:b]
    view = memoryview(piece).cast("B")
    done = 0
    while done < len(view):
        got = os.preadv(fd, [view[done:]], first * frame_bytes + done) if hasattr(os, "preadv") else \
            _pread_into(fd, view[done:], first * frame_bytes + done)
        if got <= 0:
            raise ValueError(f"block {ref.block} is shorter than its references")
        done += got
    for gain in ref.gains:
        np.multiply(piece, np.float32(gain), out=piece)
    if ref.reversed:
        piece[:] = piece[::-1].copy()


def _pread_into(fd: int, view: memoryview, offset: int) -> int:  # pragma: no cover - without preadv (Windows)
    data = os.pread(fd, len(view), offset) if hasattr(os, "pread") else _seek_read(fd, len(view), offset)
    view[:len(data)] = data
    return len(data)


_SEEK_LOCK = threading.Lock()  # pieces read on several threads share the descriptor's offset


def _seek_read(fd: int, size: int, offset: int) -> bytes:  # pragma: no cover - Windows
    with _SEEK_LOCK:
        os.lseek(fd, offset, os.SEEK_SET)
        return os.read(fd, size)


def sync_folder(folder: Path) -> None:
    """fsync a directory so the names created (renamed) in it survive a power cut (not on Windows)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def diff_span(old: np.ndarray, new: np.ndarray) -> tuple[int, int, int]:
    """(start, old_end, new_end): the smallest span outside which `old` and `new` hold identical frames
    (bitwise), i.e. old[:start] == new[:start] and old[old_end:] == new[new_end:]. Compared in chunks."""
    if old.shape[1] != new.shape[1]:
        return 0, old.shape[0], new.shape[0]
    limit = min(old.shape[0], new.shape[0])
    start = _common_run(old, new, limit, from_end=False)
    tail = _common_run(old, new, limit - start, from_end=True)
    return start, old.shape[0] - tail, new.shape[0] - tail


def _common_run(a: np.ndarray, b: np.ndarray, limit: int, from_end: bool) -> int:
    a_bits, b_bits = a.view(np.uint32), b.view(np.uint32)  # bitwise: -0.0 != 0.0, NaN == same NaN
    done = 0
    while done < limit:
        n = min(COMPARE_CHUNK, limit - done)
        if from_end:
            ca = a_bits[a.shape[0] - done - n:a.shape[0] - done]
            cb = b_bits[b.shape[0] - done - n:b.shape[0] - done]
        else:
            ca, cb = a_bits[done:done + n], b_bits[done:done + n]
        differs = np.flatnonzero((ca != cb).any(axis=1))
        if differs.size:
            return done + (n - 1 - int(differs[-1]) if from_end else int(differs[0]))
        done += n
    return done
