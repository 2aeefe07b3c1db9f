"""The denoising loop, owned here rather than inside diffusers' __call__.

Owning it gives per-step progress and cancellation, per-candidate seeds, and a
hook (`LatentConstraint`) through which in-context edits pin a known region of the
latent at every step. Plain generation and every in-context operation share it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Optional, Protocol

import numpy as np
import torch

from core.generation.progress import CancelCheck, ProgressCallback, raise_if_cancelled, report


@dataclass
class Conditioning:
    """Prompt embeddings as the UNet wants them; with guidance they hold [negative, positive] halves.

    AudioLDM 2 (cross-attention): T5/VITS states with their mask, and GPT-2's generated embeddings. The FiLM kind
    (`film`, the 48 kHz AudioLDM layout, core.models.kinds): one CLAP text embedding per take in `prompt_embeds`,
    which the UNet takes as `class_labels` (no encoder states, no mask)."""

    prompt_embeds: torch.Tensor
    attention_mask: Optional[torch.Tensor]
    generated_prompt_embeds: Optional[torch.Tensor]
    guided: bool
    film: bool = False

    def unet_kwargs(self) -> dict:
        """The keyword arguments the UNet is called with besides the latents and the timestep."""
        if self.film:
            return dict(encoder_hidden_states=None, class_labels=self.prompt_embeds, return_dict=False)
        return dict(encoder_hidden_states=self.generated_prompt_embeds, encoder_hidden_states_1=self.prompt_embeds,
                    encoder_attention_mask_1=self.attention_mask, return_dict=False)


class LatentConstraint(Protocol):
    """Rewrites part of the latent around each step (in-context continuation and inpainting)."""

    def start(self, latents: torch.Tensor, first_timestep: torch.Tensor) -> torch.Tensor: ...

    def after_step(self, latents: torch.Tensor, next_timestep: Optional[torch.Tensor]) -> torch.Tensor: ...


def make_scheduler(pipe, name: str, steps: Optional[int] = None):
    """A fresh scheduler for one job, so concurrent jobs never share solver state.

    With `steps`, the model's timestep spacing is kept where it yields `steps` distinct, in-range timesteps.
    The official configs' "leading" spacing with steps_offset 1 does not at high counts (DDIM asks for timestep
    1000 at 1000 steps; DPM-Solver++ repeats timestep 1 and overruns its sigmas), so there "trailing" spacing is
    used: `steps` evenly spaced timesteps ending at the last one, every timestep at 1000 steps.
    """
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

    def build(**overrides):
        if name == "ddim":
            return DDIMScheduler.from_config(pipe.scheduler.config, **overrides)
        return DPMSolverMultistepScheduler.from_config(pipe.scheduler.config, algorithm_type="dpmsolver++",
                                                       **overrides)

    scheduler = build()
    if steps is not None and not timesteps_fit(scheduler, steps):
        scheduler = build(timestep_spacing="trailing")
    return scheduler


def timesteps_fit(scheduler, steps: int) -> bool:
    """Whether `scheduler` spaces `steps` distinct timesteps that its step() can take.

    DPM-Solver++ finds its place by timestep, so repeats derail it; DDIM also indexes its noise table by
    timestep, so each must lie inside the training range."""
    from diffusers import DDIMScheduler

    scheduler.set_timesteps(steps)
    t = scheduler.timesteps.cpu().numpy().astype(np.int64)
    fits = len(t) == steps and bool((np.diff(t) < 0).all()) and t.min() >= 0
    if isinstance(scheduler, DDIMScheduler):
        fits = fits and t.max() < len(scheduler.alphas_cumprod)
    return bool(fits)


def vocoder_hop(pipe) -> int:
    """Audio samples per mel frame (160 for every official AudioLDM 2 checkpoint, 480 for the 48 kHz model)."""
    return int(np.prod(pipe.vocoder.config.upsample_rates))


def latent_rows_for(pipe, seconds: float) -> int:
    """Mel frames covering `seconds` (its samples, as the take is cut: round(seconds x rate)), rounded up so that
    the VAE can halve them. Rounding the frames down rendered a take short of a length between two frames."""
    samples = int(round(float(seconds) * int(pipe.vocoder.config.sampling_rate)))
    frames = -(-samples // vocoder_hop(pipe))
    factor = pipe.vae_scale_factor
    return int(np.ceil(frames / factor)) * factor


def seeded_noise(shape, seeds: list[int], device, dtype) -> torch.Tensor:
    """One standard-normal tensor of `shape` per seed, stacked; drawn on the CPU so a seed means the same
    numbers on every device."""
    noise = [torch.randn(shape, generator=torch.Generator("cpu").manual_seed(s), dtype=torch.float32)
             for s in seeds]
    return torch.stack(noise).to(device=device, dtype=dtype)


def initial_noise(pipe, seeds: list[int], mel_frames: int, device, dtype) -> torch.Tensor:
    """The starting latent noise, one per seed (see `seeded_noise`)."""
    shape = (pipe.unet.config.in_channels, mel_frames // pipe.vae_scale_factor,
             int(pipe.vocoder.config.model_in_dim) // pipe.vae_scale_factor)
    return seeded_noise(shape, seeds, device, dtype)


def steps_for_strength(steps: int, strength: float) -> int:
    """How many of `steps` an audio-to-audio pass runs at `strength` (0..1): at least one unless 0."""
    return 0 if strength <= 0 else max(1, min(steps, int(round(steps * strength))))


def noised_to(scheduler, clean: torch.Tensor, noise: torch.Tensor, timestep) -> torch.Tensor:
    """x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps on the scheduler's training schedule (variance preserving)."""
    a = scheduler.alphas_cumprod.to(torch.float64)[int(timestep)].item()
    return (a ** 0.5) * clean.to(noise.dtype) + ((1 - a) ** 0.5) * noise


def denoise(pipe, scheduler, cond: Conditioning, noise: torch.Tensor, steps: int, guidance: float,
            progress: Optional[ProgressCallback] = None, cancel: CancelCheck = None,
            constraint: Optional[LatentConstraint] = None, init_latents: Optional[torch.Tensor] = None,
            strength: float = 1.0) -> torch.Tensor:
    """Run `steps` solver steps from `noise`; cancellation is honoured between steps.

    With `init_latents` (audio-to-audio), only the last `steps_for_strength(steps, strength)` steps run,
    starting from `init_latents` noised to the first of them, so the result keeps the input's timing."""
    device = noise.device
    scheduler.set_timesteps(steps, device=device)
    timesteps = scheduler.timesteps
    if init_latents is None:
        latents = noise * scheduler.init_noise_sigma
    else:
        begin = len(timesteps) - steps_for_strength(len(timesteps), strength)
        timesteps = timesteps[begin:]
        if hasattr(scheduler, "set_begin_index"):
            scheduler.set_begin_index(begin)
        latents = noised_to(scheduler, init_latents.expand_as(noise), noise, timesteps[0])
    if constraint is not None:
        latents = constraint.start(latents, timesteps[0])
    step_kwargs = {"eta": 0.0} if "eta" in inspect.signature(scheduler.step).parameters else {}
    report(progress, "denoising", 0, len(timesteps))
    for i, t in enumerate(timesteps):
        raise_if_cancelled(cancel)
        model_input = torch.cat([latents] * 2) if cond.guided else latents
        model_input = scheduler.scale_model_input(model_input, t)
        noise_pred = pipe.unet(model_input, t, **cond.unet_kwargs())[0]
        if cond.guided:
            uncond, text = noise_pred.chunk(2)
            noise_pred = uncond + guidance * (text - uncond)
        latents = scheduler.step(noise_pred, t, latents, **step_kwargs).prev_sample
        if constraint is not None:
            latents = constraint.after_step(latents, timesteps[i + 1] if i + 1 < len(timesteps) else None)
        report(progress, "denoising", i + 1, len(timesteps))
    return latents


def sample_rate(pipe) -> int:
    """The rate of the audio the pipeline's vocoder makes (16000, or 48000 for the 48 kHz model)."""
    return int(pipe.vocoder.config.sampling_rate)


def decode(pipe, latents: torch.Tensor, n_samples: int) -> np.ndarray:
    """Latents to waveforms at the model's rate (`sample_rate`), shaped (batch, n_samples) float32."""
    mel = pipe.vae.decode(latents / pipe.vae.config.scaling_factor).sample
    wave = pipe.mel_spectrogram_to_waveform(mel)
    return wave[:, :n_samples].numpy().astype(np.float32)
