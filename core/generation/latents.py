"""A user's audio in the VAE latent space, and the known-region constraint for in-context generation.

One latent row is the VAE's factor of mel frames: 4 x hop 160 = 640 samples = 40 ms on the 16 kHz models,
8 x hop 480 = 3840 samples = 80 ms on the 48 kHz model (core.models.geometry); every seam snaps to that grid.
"""

from __future__ import annotations

import numpy as np
import torch

from core.audio.mel import log_mel, prepare_waveform
from core.generation.low_vram import execution_device
from core.generation.sampling import seeded_noise
from core.models.geometry import OFFICIAL_GEOMETRY, pipeline_geometry

SAMPLES_PER_ROW = OFFICIAL_GEOMETRY.samples_per_row  # the 16 kHz models': 4 mel frames x hop 160
ROWS_PER_SECOND = 25


def rows_for_samples(n_samples: int, samples_per_row: int = SAMPLES_PER_ROW) -> int:
    return -(-n_samples // samples_per_row)


@torch.no_grad()
def encode_wave(pipe, wave: np.ndarray) -> torch.Tensor:
    """Encode a mono waveform at the model's rate, already prepared by `prepare_waveform`, into the latent
    (1, C, rows, W).

    The waveform is zero-padded to whole latent rows. The result is scaled by the VAE scaling factor,
    i.e. it lives in the space the denoiser works in. The posterior mode is used, so encoding is deterministic.
    """
    geometry = pipeline_geometry(pipe)  # its rate, hop and mel bins (16 kHz and 64 on the AudioLDM 2 models)
    rows = geometry.rows_for_samples(len(wave))
    wave = np.pad(np.asarray(wave, dtype=np.float32), (0, rows * geometry.samples_per_row - len(wave)))
    mel = torch.from_numpy(log_mel(wave, geometry.front))[None, None]  # (1, 1, frames, n_mels)
    vae = pipe.vae
    mel = mel.to(device=execution_device(vae), dtype=vae.dtype)  # (low-VRAM: the GPU it moves to)
    latent = vae.encode(mel).latent_dist.mode()
    return latent * vae.config.scaling_factor


def encode_clip(pipe, clip) -> torch.Tensor:
    """Encode a core.audio.clip.Clip (any rate, any channels) into the latent, after DC removal and peak
    normalisation to 0.5 as the model was trained."""
    wave, _gain = prepare_waveform(clip.for_model(pipeline_geometry(pipe).rate))
    return encode_wave(pipe, wave)


class KnownRegion:
    """Pins latent rows to known content while the rest is generated (core.generation.sampling.LatentConstraint).

    `known_latents` is (1, C, rows, W) in denoiser space; `known_rows` a boolean array over rows (True =
    keep). Before the first step and after every step, known rows are replaced by the known latent noised
    to the level of the timestep the solver is about to visit (x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps,
    with a fixed eps per candidate: batch row i draws its eps from `seed + i`, the seed the engine gives
    candidate i, so a candidate re-run alone with its own seed gets the same eps and the same audio); after
    the last step they are the clean known latent, so they come out exactly equal to it. Noising uses the
    pipeline's own training schedule, so it holds for DDIM and DPM-Solver++ alike (both variance-preserving,
    epsilon prediction).
    """

    def __init__(self, pipe, known_latents: torch.Tensor, known_rows, seed: int = 0) -> None:
        mask = torch.as_tensor(np.asarray(known_rows, dtype=bool))
        if known_latents.shape[2] != mask.shape[0]:
            raise ValueError(f"known_rows has {mask.shape[0]} rows but the latent has {known_latents.shape[2]}")
        self.known = known_latents
        self.mask = mask.view(1, 1, -1, 1).to(known_latents.device)
        self.seed = seed
        self.noise = self._noise_for(1)
        self.alphas_cumprod = pipe.scheduler.alphas_cumprod.to(torch.float64)

    def _noise_for(self, batch: int) -> torch.Tensor:
        """One eps per batch row, row i from seed + i (drawn on the CPU, like the engine's initial noise)."""
        seeds = [self.seed + i for i in range(batch)]
        return seeded_noise(self.known.shape[1:], seeds, self.known.device, self.known.dtype)

    def _noised(self, timestep: torch.Tensor) -> torch.Tensor:
        a = self.alphas_cumprod[int(timestep)].item()
        return (a ** 0.5) * self.known + ((1 - a) ** 0.5) * self.noise

    def _blend(self, latents: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return torch.where(self.mask, target.to(latents.dtype).expand_as(latents), latents)

    def start(self, latents: torch.Tensor, first_timestep: torch.Tensor) -> torch.Tensor:
        if self.noise.shape[0] != latents.shape[0]:
            self.noise = self._noise_for(latents.shape[0])
        return self._blend(latents, self._noised(first_timestep))

    def after_step(self, latents: torch.Tensor, next_timestep) -> torch.Tensor:
        target = self.known if next_timestep is None else self._noised(next_timestep)
        return self._blend(latents, target)
