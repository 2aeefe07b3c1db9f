"""Build tiny random-weight AudioLDM 2 pipelines in the official on-disk layout.

Tests load these folders through the same code path users take for the real
checkpoints, so every shape rule of the real model holds here: 16 kHz audio,
64 mel bins, hop 160, a VAE that downsamples by 4 into 8 latent channels. Only
widths and depths are tiny. Tokenizers are trained in memory (no hub access).
The official quirks are reproduced on purpose: model_index.json declares the
language model as GPT2Model, and the CLAP config carries torch_dtype float64.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

CORPUS = [
    "a dog barking in the distance", "metal door slam in a large hall", "rain on a tin roof",
    "upbeat electronic music with drums", "a female reporter is speaking in a quiet studio",
    "birds chirping at dawn", "footsteps on gravel", "thunder and heavy rain", "a piano melody",
    "crowd cheering in a stadium", "low quality, noise, distortion", "wind howling through trees",
]


def _train_tokenizers():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import RobertaTokenizerFast, T5TokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.train_from_iterator(CORPUS * 4, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    data = json.loads(bpe.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in data["merges"]]
    roberta = RobertaTokenizerFast(vocab=data["vocab"], merges=merges, model_max_length=77)

    unigram = Tokenizer(models.Unigram())
    unigram.train_from_iterator(CORPUS * 4, trainers.UnigramTrainer(
        vocab_size=120, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>"))
    pieces = [(p, s) for p, s in json.loads(unigram.to_str())["model"]["vocab"]]
    t5 = T5TokenizerFast(vocab=pieces, extra_ids=0, model_max_length=77)
    return roberta, t5


def _vits_tokenizer(folder: Path, max_length: int):
    from transformers import VitsTokenizer

    # The pipeline treats phoneme id 182 as end of sequence, so the vocab needs >= 183 entries.
    symbols = ["<pad>", "<unk>", " "] + list("abcdefghijklmnopqrstuvwxyz'.,!?-")
    symbols += [f"<x{i}>" for i in range(183 - len(symbols))]
    folder.mkdir(parents=True, exist_ok=True)
    vocab_file = folder / "vocab_source.json"
    vocab_file.write_text(json.dumps({s: i for i, s in enumerate(symbols)}))
    tok = VitsTokenizer(str(vocab_file), pad_token="<pad>", unk_token="<unk>", phonemize=False,
                        add_blank=False, normalize=True, model_max_length=max_length)
    vocab_file.unlink()
    return tok


def build_components(speech: bool = False, seed: int = 0, vocoder: dict | None = None) -> dict:
    from diffusers import AutoencoderKL, DDIMScheduler
    from diffusers.pipelines.audioldm2 import AudioLDM2ProjectionModel, AudioLDM2UNet2DConditionModel
    from transformers import (
        ClapAudioConfig,
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapTextConfig,
        GPT2Config,
        GPT2Model,
        SpeechT5HifiGan,
        SpeechT5HifiGanConfig,
        T5Config,
        T5EncoderModel,
        VitsConfig,
        VitsModel,
    )

    torch.manual_seed(seed)
    roberta, t5 = _train_tokenizers()
    lm_dim, t5_dim, vits_dim = 16, 24, 16
    second_dim = vits_dim if speech else t5_dim
    unet = AudioLDM2UNet2DConditionModel(
        block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=8, sample_size=32,
        in_channels=8, out_channels=8, attention_head_dim=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=([None, lm_dim, second_dim], [None, lm_dim, second_dim]) if not speech
        else ([None, lm_dim], [None, lm_dim]),
    )
    scheduler = DDIMScheduler(beta_start=0.0015, beta_end=0.0195, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    vae = AutoencoderKL(
        block_out_channels=[8, 16, 16], in_channels=1, out_channels=1, norm_num_groups=8, latent_channels=8,
        down_block_types=["DownEncoderBlock2D"] * 3, up_block_types=["UpDecoderBlock2D"] * 3,
        layers_per_block=1, scaling_factor=0.4110932946205139,
    )
    text_config = ClapTextConfig(bos_token_id=0, eos_token_id=2, pad_token_id=1, hidden_size=16,
                                 intermediate_size=32, num_attention_heads=2, num_hidden_layers=1,
                                 vocab_size=roberta.vocab_size + 8, max_position_embeddings=96,
                                 projection_hidden_size=16)
    # hidden_size must equal patch_embeds_hidden_size * 2**(len(depths)-1), or CLAP ranking crashes.
    audio_config = ClapAudioConfig(spec_size=256, window_size=4, num_mel_bins=64, intermediate_size=32,
                                   depths=[1, 1], num_attention_heads=[1, 1], num_hidden_layers=2,
                                   patch_embeds_hidden_size=8, hidden_size=16, patch_size=16, patch_stride=16,
                                   projection_hidden_size=16)
    clap = ClapModel(ClapConfig(text_config=text_config.to_dict(), audio_config=audio_config.to_dict(),
                                projection_dim=16))
    feature_extractor = ClapFeatureExtractor(feature_size=64, sampling_rate=48000, hop_length=480,
                                             max_length_s=10, fft_window_size=1024,
                                             truncation="rand_trunc", padding="repeatpad",
                                             frequency_min=50, frequency_max=14000)
    language_model = GPT2Model(GPT2Config(n_embd=lm_dim, n_head=2, n_layer=1, vocab_size=1000,
                                          n_ctx=600, n_positions=600, bos_token_id=0, eos_token_id=0))
    language_model.config.max_new_tokens = 8
    vocoder = SpeechT5HifiGan(SpeechT5HifiGanConfig(**{**dict(
        model_in_dim=64, sampling_rate=16000, upsample_initial_channel=64, upsample_rates=[5, 4, 2, 2, 2],
        upsample_kernel_sizes=[10, 8, 4, 4, 4], resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
        normalize_before=False, initializer_range=0.1), **(vocoder or {})}))
    if speech:
        max_len = 64
        tokenizer_2 = None  # built by the caller into the target folder
        text_encoder_2 = VitsModel(VitsConfig(vocab_size=183, hidden_size=vits_dim, num_hidden_layers=1,
                                              num_attention_heads=2, ffn_dim=32, ffn_kernel_size=3,
                                              flow_size=8, spectrogram_bins=17, prior_encoder_num_flows=1,
                                              posterior_encoder_num_wavenet_layers=1,
                                              prior_encoder_num_wavenet_layers=1,
                                              duration_predictor_filter_channels=8, upsample_initial_channel=8,
                                              upsample_rates=[2, 2], upsample_kernel_sizes=[4, 4],
                                              resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3]],
                                              depth_separable_num_layers=1, duration_predictor_num_flows=1))
        projection = AudioLDM2ProjectionModel(text_encoder_dim=16, text_encoder_1_dim=vits_dim,
                                              langauge_model_dim=lm_dim, use_learned_position_embedding=True,
                                              max_seq_length=max_len)
    else:
        max_len = None
        tokenizer_2 = t5
        text_encoder_2 = T5EncoderModel(T5Config(vocab_size=t5.vocab_size + 8, d_model=t5_dim, d_ff=32, d_kv=8,
                                                 num_heads=2, num_layers=1))
        projection = AudioLDM2ProjectionModel(text_encoder_dim=16, text_encoder_1_dim=t5_dim,
                                              langauge_model_dim=lm_dim)
    return dict(vae=vae, text_encoder=clap, text_encoder_2=text_encoder_2, projection_model=projection,
                language_model=language_model, tokenizer=roberta, tokenizer_2=tokenizer_2,
                feature_extractor=feature_extractor, unet=unet, scheduler=scheduler, vocoder=vocoder,
                _max_len=max_len)


def build_tiny_pipeline(folder: Path, speech: bool = False, seed: int = 0, vocoder: dict | None = None) -> Path:
    """Save a tiny random AudioLDM 2 pipeline at `folder` in the official layout and return it. `vocoder`
    overrides the vocoder's config (a model with another geometry)."""
    from diffusers import AudioLDM2Pipeline

    folder = Path(folder)
    parts = build_components(speech=speech, seed=seed, vocoder=vocoder)
    max_len = parts.pop("_max_len")
    if speech:
        parts["tokenizer_2"] = _vits_tokenizer(folder / "_tmp_vocab", max_len)
    pipe = AudioLDM2Pipeline(**parts)
    pipe.save_pretrained(folder, safe_serialization=True)
    if speech:
        (folder / "_tmp_vocab").rmdir()
    _apply_official_quirks(folder)
    return folder


def _apply_official_quirks(folder: Path) -> None:
    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text())
    index["language_model"] = ["transformers", "GPT2Model"]
    if index["tokenizer"][1] == "RobertaTokenizer":
        index["tokenizer"] = ["transformers", "RobertaTokenizerFast"]
    if index["tokenizer_2"][1] == "T5Tokenizer":
        index["tokenizer_2"] = ["transformers", "T5TokenizerFast"]
    index_path.write_text(json.dumps(index, indent=2))
    clap_config_path = folder / "text_encoder" / "config.json"
    clap = json.loads(clap_config_path.read_text())
    clap.pop("dtype", None)
    clap["torch_dtype"] = "float64"
    clap_config_path.write_text(json.dumps(clap, indent=2))
