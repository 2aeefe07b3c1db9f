"""Reference meters for loudness and true-peak tests: libebur128 (pyebur128), ffmpeg and sox."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np


def ebur128_lufs(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness by libebur128 (5 channels read as L R C Ls Rs, as BS.1770 weights them)."""
    import pyebur128

    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim == 1:
        samples = samples[:, None]
    state = pyebur128.R128State(samples.shape[1], rate, pyebur128.MeasurementMode.MODE_I)
    if samples.shape[1] == 5:
        for channel, kind in enumerate((pyebur128.ChannelType.LEFT, pyebur128.ChannelType.RIGHT,
                                        pyebur128.ChannelType.CENTER, pyebur128.ChannelType.LEFT_SURROUND,
                                        pyebur128.ChannelType.RIGHT_SURROUND)):
            state.set_channel(channel, kind)
    state.add_frames(np.ascontiguousarray(samples).ravel(), samples.shape[0])
    return float(pyebur128.get_loudness_global(state))


def ffmpeg_true_peak_db(path: Path) -> tuple[float, float]:
    """ffmpeg's true peak of a file in dBTP: (its ebur128=peak=true reading, printed to 3 decimals of the
    linear value; the maximum of the same 192 kHz resampling, swresample's, read at full precision)."""
    filtered = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path), "-af",
                               "ebur128=peak=true:metadata=1,ametadata=mode=print:key=lavfi.r128.true_peak",
                               "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    readings = [float(line.rsplit("=", 1)[1]) for line in filtered.splitlines() if "lavfi.r128.true_peak=" in line]
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-af", "aresample=192000", "-f",
                          "f64le", "-"], capture_output=True, check=True).stdout
    return 20 * np.log10(max(readings)), 20 * np.log10(np.abs(np.frombuffer(raw, np.float64)).max())


def sox_8x_peak_db(path: Path, rate: int) -> float:
    """The largest |sample| of sox's 8x oversampling (`rate -v`, very high quality), in dB."""
    raw = subprocess.run(["sox", str(path), "-t", "f64", "-", "rate", "-v", str(8 * rate)], capture_output=True,
                         check=True).stdout
    return 20 * np.log10(np.abs(np.frombuffer(raw, np.float64)).max())
