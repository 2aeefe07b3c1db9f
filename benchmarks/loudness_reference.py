"""The loudness and true-peak reference figures of issue 19, measured on the current code with the reference tools.

    python benchmarks/loudness_reference.py        # prints a Markdown table (needs ffmpeg, sox, pyebur128)

- Two recordings (trash_empty, 44.1 kHz; the 44.1 kHz music intro) normalised by `loa edit` (a real process) to
  -16 LUFS / -1 dBTP and -14 LUFS / -2 dBTP, written as float WAV: ffmpeg's `ebur128=peak=true` (integrated
  loudness and true peak), libebur128 (pyebur128: integrated loudness, and its own true peak) and sox's 8x
  oversampling (`rate -v`) read the result.
- EBU Tech 3341 cases 1-6, a 0.6 s tone + 60 ms silence, and the 8 kHz phone recording: our reading against the
  expected value and libebur128's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from audio_corpus import find_recording  # noqa: E402
from loudness_reference import ebur128_lufs, ffmpeg_true_peak_db, sox_8x_peak_db  # noqa: E402
from test_loudness_reference import tech_3341_case, tone  # noqa: E402

from core.editing import measure  # noqa: E402


def ebur128_true_peak_db(samples: np.ndarray, rate: int) -> float:
    import pyebur128

    samples = np.asarray(samples, dtype=np.float64)
    state = pyebur128.R128State(samples.shape[1], rate, pyebur128.MeasurementMode.MODE_TRUE_PEAK)
    state.add_frames(np.ascontiguousarray(samples).ravel(), samples.shape[0])
    return 20 * np.log10(max(pyebur128.get_true_peak(state, c) for c in range(samples.shape[1])))


def ffmpeg_integrated(path: Path) -> float:
    err = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128",
                          "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1])


def normalised_rows(folder: Path) -> list[str]:
    rows = ["| File | Target | loa edit's note | ffmpeg I (LUFS) | libebur128 I | ffmpeg true peak (dBTP) | "
            "ffmpeg 192 kHz max | sox 8x peak | libebur128 true peak |", "|---|---|---|---|---|---|---|---|---|"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for name in ("trash_empty_44k_stereo.oga", "music_intro_44k_stereo_24s.ogg"):
        source = find_recording(name)
        for lufs, ceiling in ((-16.0, -1.0), (-14.0, -2.0)):
            out = folder / f"{name.split('.')[0]}_{-lufs:g}_{-ceiling:g}.wav"
            done = subprocess.run([sys.executable, "-m", "core.cli.main", "edit", str(source), "-o", str(out),
                                   "--normalize-loudness", str(lufs), "--true-peak", str(ceiling), "--overwrite"],
                                  capture_output=True, text=True, env=env, cwd=REPO)
            assert done.returncode == 0, done.stderr
            x, rate = sf.read(str(out), always_2d=True)
            tp, swr = ffmpeg_true_peak_db(out)
            note = " ".join(done.stderr.split()) or "-"
            rows.append(f"| {name} ({sf.info(str(out)).subtype}) | {lufs:g} / {ceiling:g} | {note} | "
                        f"{ffmpeg_integrated(out):.1f} | {ebur128_lufs(x, rate):.3f} | {tp:.3f} | {swr:.3f} | "
                        f"{sox_8x_peak_db(out, rate):.3f} | {ebur128_true_peak_db(x, rate):.3f} |")
    return rows


def reading_rows(folder: Path) -> list[str]:
    rows = ["| Signal | Expected | Ours (LUFS) | libebur128 | Ours - expected | Ours - libebur128 |",
            "|---|---|---|---|---|---|"]
    for number in range(1, 7):
        x = tech_3341_case(number)
        expected = -33.0 if number == 2 else -23.0
        ours, ref = measure.integrated_loudness(x.astype(np.float32), 48000), ebur128_lufs(x, 48000)
        rows.append(f"| Tech 3341 case {number} | {expected:.1f} | {ours:.3f} | {ref:.3f} | {ours - expected:+.3f} | "
                    f"{ours - ref:+.3f} |")
    x = np.concatenate([tone(-23, 0.6), np.zeros((int(0.06 * 48000), 2))])
    ours, ref = measure.integrated_loudness(x.astype(np.float32), 48000), ebur128_lufs(x, 48000)
    rows.append(f"| 0.6 s tone -23 dBFS + 60 ms silence | (libebur128) | {ours:.3f} | {ref:.3f} | - | {ours - ref:+.3f} |")
    phone = find_recording("phone_busy_8k_mono.oga")
    x, rate = sf.read(str(phone), always_2d=True)
    at48 = folder / "phone_48k.wav"
    subprocess.run(["sox", str(phone), "-b", "32", "-e", "floating-point", str(at48), "rate", "-v", "48000"],
                   check=True)
    y, _ = sf.read(str(at48), always_2d=True)
    ours = measure.integrated_loudness(x.astype(np.float32), rate)
    native, resampled = ebur128_lufs(x, rate), ebur128_lufs(y, 48000)
    rows.append(f"| 8 kHz phone recording | (libebur128 at 48 kHz, sox) | {ours:.3f} | {resampled:.3f} | - | "
                f"{ours - resampled:+.3f} (libebur128's own 8 kHz filters: {native:.3f}) |")
    out = folder / "phone_-16.wav"
    done = subprocess.run([sys.executable, "-m", "core.cli.main", "edit", str(phone), "-o", str(out),
                           "--normalize-loudness", "-16", "--true-peak", "-1", "--overwrite"],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)), cwd=REPO)
    assert done.returncode == 0, done.stderr
    up = folder / "phone_-16_48k.wav"
    subprocess.run(["sox", str(out), "-b", "32", "-e", "floating-point", str(up), "rate", "-v", "48000"], check=True)
    z, _ = sf.read(str(up), always_2d=True)
    got = ebur128_lufs(z, 48000)
    rows.append(f"| 8 kHz phone normalised to -16 by loa edit | -16.0 | - | {got:.3f} (at 48 kHz) | - | "
                f"{got + 16:+.3f} |")
    return rows


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        print("\n".join(normalised_rows(Path(tmp))))
        print()
        print("\n".join(reading_rows(Path(tmp))))
