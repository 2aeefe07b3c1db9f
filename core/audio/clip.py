"""The Clip type: float32 samples with their rate, read and written through soundfile."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.audio.downmix import downmix
from core.errors import InputError, first_line

log = logging.getLogger(__name__)

MODEL_RATE = 16_000  # the AudioLDM 2 models' rate; a loaded model states its own (core.models.geometry)
MAX_CLIP_BYTES = 2 * 1024**3  # samples in memory (float32): about 1.5 hours of 48 kHz stereo, 3 hours of mono

# soundfile subtypes offered for export, by the names users see.
SUBTYPES = {"pcm16": "PCM_16", "pcm24": "PCM_24", "pcm32": "PCM_32", "float32": "FLOAT", "float64": "DOUBLE"}
FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".oga": "OGG", ".opus": "OGG", ".aiff": "AIFF",
           ".aif": "AIFF", ".mp3": "MP3"}
LOSSY_OUTPUTS = {".ogg": "VORBIS", ".oga": "VORBIS", ".opus": "OPUS", ".mp3": "MPEG_LAYER_III"}


@dataclass
class Clip:
    """Audio in memory: `samples` is float32 shaped (frames, channels)."""

    samples: np.ndarray
    sample_rate: int
    repaired_samples: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[:, None]
        if samples.ndim != 2:
            raise ValueError(f"clip samples must be 1-D or (frames, channels), got shape {samples.shape}")
        self.samples = samples
        if self.sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, got {self.sample_rate}")

    @property
    def frames(self) -> int:
        return self.samples.shape[0]

    @property
    def channels(self) -> int:
        return self.samples.shape[1]

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate

    @property
    def mono(self) -> np.ndarray:
        """The clip as one 1-D channel: the channels' mean, or for 3+ channels the mean of their BS.775
        stereo downmix (core.audio.downmix: the centre counts, the LFE is left out)."""
        if self.channels == 1:
            return self.samples[:, 0].copy()  # a new array, as for several channels: callers may change it
        return downmix(self.samples, 1)[:, 0]

    def resampled(self, rate: int) -> "Clip":
        return Clip(resample(self.samples, self.sample_rate, rate), rate)

    def for_model(self, rate: int = MODEL_RATE) -> np.ndarray:
        """The clip as a model at `rate` hears it (16 kHz unless told): mono, 1-D float32."""
        return resample(self.mono, self.sample_rate, rate)

    def with_channels(self, channels: int) -> "Clip":
        """Spread mono to `channels`, or downmix to stereo or mono (core.audio.downmix: every channel counts);
        other changes (stereo to 5.1) are refused with ValueError."""
        if channels == self.channels:
            return self
        if self.channels == 1:
            return Clip(np.repeat(self.samples, channels, axis=1), self.sample_rate)
        if channels in (1, 2) and channels < self.channels:
            return Clip(downmix(self.samples, channels), self.sample_rate)
        raise ValueError(f"cannot map {self.channels} channels to {channels}")


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """High-quality resampling (soxr) along the first axis; a no-op at equal rates."""
    samples = np.asarray(samples, dtype=np.float32)
    if from_rate == to_rate or samples.shape[0] == 0:
        return samples
    import soxr

    return soxr.resample(samples, from_rate, to_rate, quality="HQ").astype(np.float32, copy=False)


def repair_non_finite(samples: np.ndarray) -> tuple[np.ndarray, int]:
    """Replace NaN and Inf samples by silence; return the repaired array and how many were bad."""
    bad = ~np.isfinite(samples)
    count = int(bad.sum())
    if count:
        samples = np.where(bad, 0.0, samples).astype(np.float32)
    return samples, count


# The formats a user knows by name, in the order they are named, as libsndfile calls them.
_KNOWN_FORMATS = (("WAV", "WAV"), ("FLAC", "FLAC"), ("AIFF", "AIFF"), ("OGG", "Ogg (Vorbis, Opus)"), ("MP3", "MP3"),
                  ("CAF", "CAF"))


def readable_formats() -> str:
    """The common formats this machine's libsndfile really opens, as words: "WAV, FLAC, AIFF, Ogg (Vorbis, Opus),
    MP3 and CAF" (MP3 only where libsndfile is 1.1 or newer)."""
    import soundfile as sf

    available = sf.available_formats()
    names = [name for key, name in _KNOWN_FORMATS if key in available] or ["WAV"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def load_clip(path: str | Path) -> Clip:
    """Read any file libsndfile understands (WAV, FLAC, OGG/Vorbis, Opus, AIFF, MP3...).

    Non-finite samples are replaced by silence and counted in `repaired_samples`;
    a file that is all non-finite, empty or unreadable raises InputError.
    """
    import soundfile as sf

    path = Path(path)
    if str(path) == "-":
        raise InputError("reading audio from standard input (-) is not supported; save it to a file and name that.")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not an audio file; name a file inside it.")
    if path.exists() and not path.is_file():
        raise InputError(f"{path} is not a regular file (a pipe or a device); save the audio to a file and name that.")
    if not path.is_file():
        raise InputError(f"Audio file not found: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is empty (0 bytes): it holds no audio; choose a recording.")
    try:
        _check_fits_in_memory(path, sf.info(str(path)))
        samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        log.info("libsndfile cannot read %s: %s", path, first_line(exc))
        raise InputError(f"Cannot read {path.name} as audio: it is damaged or not a sound file; "
                         f"{readable_formats()} files open.") from exc
    if samples.shape[0] == 0:
        raise InputError(f"{path.name} holds no audio (0 samples); choose a file with sound in it.")
    samples, bad = repair_non_finite(samples)
    if bad == samples.size:
        raise InputError(f"{path.name} holds no valid samples (all NaN or infinite).")
    return Clip(samples, int(rate), repaired_samples=bad)


def _check_fits_in_memory(path: Path, info) -> None:
    """Refuse, before reading, a file whose samples would not fit in MAX_CLIP_BYTES (a 5-hour recording would
    otherwise fail half-way with a MemoryError or push the machine into swap)."""
    needed = info.frames * info.channels * 4  # float32
    if needed > MAX_CLIP_BYTES:
        minutes, seconds = divmod(int(info.frames / info.samplerate), 60)
        hours, minutes = divmod(minutes, 60)
        raise InputError(f"{path.name} is too long to open: {hours}:{minutes:02d}:{seconds:02d} of {info.channels}-"
                         f"channel {info.samplerate} Hz audio needs {needed / 1024**3:.1f} GB of memory (at most "
                         f"{MAX_CLIP_BYTES / 1024**3:.0f} GB); cut out the part you need first.")


def output_format(path: Path) -> str:
    if str(path) == "-":
        raise InputError("writing audio to standard output (-) is not supported; name a file, e.g. -o take.wav.")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"Cannot write {path.name}: unknown extension {path.suffix!r}; "
                         f"use one of {', '.join(sorted(FORMATS))}.")
    return fmt


def sf_subtype_for(path: Path, subtype: str | None) -> tuple[str, str | None]:
    """(soundfile format, soundfile subtype) for writing `path` with the user-facing `subtype` (None: default)."""
    fmt = output_format(path)
    sf_subtype = None
    if subtype is not None:
        if subtype not in SUBTYPES:
            raise InputError(f"Unknown sample format {subtype!r}; use one of {', '.join(SUBTYPES)}.")
        sf_subtype = SUBTYPES[subtype]
        if fmt == "FLAC" and sf_subtype in ("FLOAT", "DOUBLE", "PCM_32"):
            raise InputError(f"FLAC cannot hold {subtype} samples; use pcm16 or pcm24, or WAV.")
        if path.suffix.lower() in LOSSY_OUTPUTS:
            raise InputError(f"{path.suffix[1:].upper()} is lossy and has no {subtype} sample format; "
                             "use WAV or FLAC.")
    return fmt, LOSSY_OUTPUTS.get(path.suffix.lower(), sf_subtype)


def write_audio_file(clip: Clip, file_path: str | Path, fmt: str, sf_subtype: str | None,
                     tags: dict[str, str] | None = None) -> None:
    """Encode the clip into `file_path` (normally an atomic temp file). Float subtypes keep samples beyond
    +-1.0; integer ones are clipped. An OSError from the disk (full, quota, I/O) is raised as itself, not as
    a libsndfile message, so the caller can say what happened; so is Ctrl+C or SIGTERM while encoding.

    The samples go to libsndfile in blocks: libvorbis encodes one call's samples on its stack (alloca), and a
    long clip written in one call crashed the process (SIGSEGV at 3 minutes of 44.1 kHz stereo to .ogg;
    python-soundfile #426, libsndfile #1095)."""
    import soundfile as sf

    from core.signals import deferred

    float_out = sf_subtype in ("FLOAT", "DOUBLE")
    samples = clip.samples if float_out else np.clip(clip.samples, -1.0, 1.0)
    with open(file_path, "w+b") as raw, deferred() as deliver:
        sink = _ErrorKeepingFile(raw)
        try:
            with sf.SoundFile(sink, "w", samplerate=clip.sample_rate, channels=clip.channels, format=fmt,
                              subtype=sf_subtype) as out:
                for key, value in (tags or {}).items():
                    try:
                        setattr(out, key, value)
                    except (RuntimeError, sf.LibsndfileError):
                        pass  # some formats lack some tags; the JSON sidecar keeps everything
                for start in range(0, len(samples), WRITE_BLOCK_FRAMES):
                    out.write(samples[start:start + WRITE_BLOCK_FRAMES])
                    sink.raise_kept()
                    deliver()  # Ctrl+C lands here, between blocks, never inside libsndfile's callbacks
        except BaseException:
            sink.raise_kept()
            raise
        sink.raise_kept()
        raw.flush()


WRITE_BLOCK_FRAMES = 1 << 16


class _ErrorKeepingFile:
    """A file for libsndfile's virtual I/O that keeps the first exception raised in its callbacks: an OSError
    from the disk (libsndfile only sees a short write), or a KeyboardInterrupt / SIGTERM's Cancelled that
    Python delivered while the callback ran. cffi would print such an exception ("Exception ignored from cffi
    callback") and carry on; here it is raised again once libsndfile returns."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.error: BaseException | None = None

    def raise_kept(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error.with_traceback(None)

    def _guard(self, call, *args, failed):
        if self.error is not None:
            return failed
        try:
            return call(*args)
        except BaseException as exc:  # noqa: BLE001 - kept, raised again outside the C callback
            self.error = exc
            return failed

    def write(self, data) -> int:
        return self._guard(self.raw.write, data, failed=0)

    def read(self, size=-1) -> bytes:
        return self._guard(self.raw.read, size, failed=b"")

    def seek(self, offset, whence=0) -> int:
        return self._guard(self.raw.seek, offset, whence, failed=-1)

    def tell(self) -> int:
        return self._guard(self.raw.tell, failed=-1)


def save_clip(clip: Clip, path: str | Path, subtype: str | None = None, tags: dict[str, str] | None = None,
              overwrite: bool = True) -> Path:
    """Write the clip atomically; `subtype` is one of SUBTYPES' keys (format default when None); `tags` go in
    the file. Without `overwrite` an existing file is refused (core.output_checks.OutputExists)."""
    from core.fileio import atomic_output

    path = Path(path)
    fmt, sf_subtype = sf_subtype_for(path, subtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, overwrite=overwrite) as tmp:
        write_audio_file(clip, tmp, fmt, sf_subtype, tags)
    return path


def read_tags(path: str | Path) -> dict[str, str]:
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        return {k: v for k, v in f.copy_metadata().items() if v}

