"""A tiny random-weight 48 kHz AudioLDM pipeline built directly in diffusers' plain UNet2DConditionModel layout.

The 48 kHz tests run on the importer's output (tests/conftest.py `tiny_48k_model`: tests/tiny_original_audioldm.py's
original-format checkpoint, converted). This builder stays for the one layout the converter does not write for the
48 kHz model: diffusers' UNet2DConditionModel with one transformer per attention site (as diffusers' 16 kHz AudioLDM
conversion has), which the engine must run too (test_engine_48k.py test_diffusers_plain_unet_layout_runs_too).

The geometry is the AudioLDM 2 repository's `audioldm_48k` (audioldm2/utils.py get_audioldm_48k_config and
utilities/model.py get_vocoder_config_48k): 48 kHz audio, 256 mel bins, hop 480 (vocoder upsample 6*5*4*2*2), a VAE
that downsamples by 8 into 16 latent channels, a UNet conditioned by FiLM on a 512-d CLAP text embedding (diffusers'
"simple_projection" class embedding concatenated to the time embedding) fed no text states, and DDIM on the
original's "linear" betas 0.0015 -> 0.0195 (sqrt-spaced: diffusers' "scaled_linear"). Only widths and depths are
tiny. Tokenizers are trained in memory (no hub access).
"""

from __future__ import annotations

from pathlib import Path

import torch

SAMPLE_RATE = 48_000
HOP = 480
N_MELS = 256
LATENT_CHANNELS = 16
FILM_DIM = 512
VOCODER_48K = dict(model_in_dim=N_MELS, sampling_rate=SAMPLE_RATE, upsample_rates=[6, 5, 4, 2, 2],
                   upsample_kernel_sizes=[12, 10, 8, 4, 4])


def build_components(seed: int = 0) -> dict:
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from tiny_pipeline import _train_tokenizers
    from transformers import ClapTextConfig, ClapTextModelWithProjection, SpeechT5HifiGan, SpeechT5HifiGanConfig

    torch.manual_seed(seed)
    roberta, _ = _train_tokenizers()
    common = dict(block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=8, sample_size=32,
                  in_channels=LATENT_CHANNELS, out_channels=LATENT_CHANNELS, attention_head_dim=4,
                  down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                  up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
                  class_embed_type="simple_projection", projection_class_embeddings_input_dim=FILM_DIM,
                  class_embeddings_concat=True)
    # diffusers' 16 kHz AudioLDM layout: cross_attention_dim = the block widths, fed no states (self-attention).
    unet = UNet2DConditionModel(cross_attention_dim=(8, 16), **common)
    scheduler = DDIMScheduler(beta_start=0.0015, beta_end=0.0195, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    vae = AutoencoderKL(
        block_out_channels=[8, 16, 16, 16], in_channels=1, out_channels=1, norm_num_groups=8,
        latent_channels=LATENT_CHANNELS, down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4, layers_per_block=1, scaling_factor=0.5,
    )
    text_encoder = ClapTextModelWithProjection(ClapTextConfig(
        bos_token_id=0, eos_token_id=2, pad_token_id=1, hidden_size=16, intermediate_size=32,
        num_attention_heads=2, num_hidden_layers=1, vocab_size=roberta.vocab_size + 8, max_position_embeddings=96,
        projection_hidden_size=16, projection_dim=FILM_DIM))
    vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(
        upsample_initial_channel=64, resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
        normalize_before=False, initializer_range=0.1, **VOCODER_48K))
    return dict(vae=vae, text_encoder=text_encoder, tokenizer=roberta, unet=unet, scheduler=scheduler,
                vocoder=vocoder)


def build_tiny_plain_48k_pipeline(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random 48 kHz AudioLDM pipeline with a plain UNet2DConditionModel at `folder` (diffusers'
    save_pretrained layout); return it."""
    from diffusers import AudioLDMPipeline

    from core.quiet import quiet_model_libraries

    quiet_model_libraries()  # AudioLDMPipeline is deprecated in diffusers: no warning per build
    folder = Path(folder)
    pipe = AudioLDMPipeline(**build_components(seed=seed))
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder
