"""The ACID chunk of a WAV file: tempo, beats and meter that DAWs (Ableton Live, FL Studio, Reaper, Cubase,
ACID itself) read to place a loop on their grid without stretching it.

Layout (24 bytes of data after the 8-byte chunk header "acid" + size, little endian; as libsndfile reads it):

    uint32 flags          0x01 one-shot, 0x02 root note set, 0x04 stretch, 0x08 disk-based, 0x10 high octave
    uint16 root note      MIDI note (60 when unset)
    uint16 unknown        0x8000 by convention
    float32 unknown       0
    uint32 beats          number of beats in the file
    uint16 meter denominator
    uint16 meter numerator
    float32 tempo         beats per minute

`add_acid_chunk` appends the chunk to a finished WAV (atomically: temp file + rename) and fixes the RIFF size;
`read_acid_chunk` parses it back. Qt-free.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from core.errors import InputError
from core.fileio import write_bytes_atomic

ACID_ID = b"acid"
ACID_FORMAT = "<IHHfIHHf"  # 24 bytes
FLAG_ONE_SHOT, FLAG_ROOT_SET, FLAG_STRETCH = 0x01, 0x02, 0x04


@dataclass(frozen=True)
class AcidInfo:
    bpm: float
    beats: int
    meter_numerator: int = 4
    meter_denominator: int = 4
    root_note: Optional[int] = None
    one_shot: bool = False

    def pack(self) -> bytes:
        flags = (FLAG_ONE_SHOT if self.one_shot else 0) | FLAG_STRETCH | (FLAG_ROOT_SET if self.root_note is not None else 0)
        root = self.root_note if self.root_note is not None else 60
        body = struct.pack(ACID_FORMAT, flags, root, 0x8000, 0.0, self.beats, self.meter_denominator,
                           self.meter_numerator, float(self.bpm))
        return ACID_ID + struct.pack("<I", len(body)) + body

    @classmethod
    def unpack(cls, body: bytes) -> "AcidInfo":
        flags, root, _, _, beats, denominator, numerator, bpm = struct.unpack(ACID_FORMAT, body[:24])
        return cls(bpm=bpm, beats=beats, meter_numerator=numerator, meter_denominator=denominator,
                   root_note=root if flags & FLAG_ROOT_SET else None, one_shot=bool(flags & FLAG_ONE_SHOT))


def riff_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(id, offset of the chunk's data, size) for each top-level chunk of a RIFF/WAVE file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise InputError("not a RIFF/WAVE file; the ACID chunk exists only in WAV.")
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        chunks.append((chunk_id, pos + 8, size))
        pos += 8 + size + (size & 1)  # chunks are padded to an even length
    return chunks


def add_acid_chunk(path: str | Path, info: AcidInfo) -> Path:
    """Append (or replace) the ACID chunk of the WAV at `path`; the audio and other chunks are kept as they are."""
    path = Path(path)
    data = path.read_bytes()
    kept = [data[:12]]
    for chunk_id, offset, size in riff_chunks(data):
        if chunk_id != ACID_ID:
            chunk = data[offset - 8: offset + size]
            kept.append(chunk + (b"\0" if size & 1 else b""))
    body = b"".join(kept) + info.pack()
    body = body[:4] + struct.pack("<I", len(body) - 8) + body[8:]
    return write_bytes_atomic(path, body)


def read_acid_chunk(path: str | Path) -> Optional[AcidInfo]:
    data = Path(path).read_bytes()
    for chunk_id, offset, size in riff_chunks(data):
        if chunk_id == ACID_ID and size >= 24:
            return AcidInfo.unpack(data[offset: offset + size])
    return None
