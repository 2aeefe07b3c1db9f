"""Converting an original-format AudioLDM checkpoint into diffusers' AudioLDMPipeline folder layout.

The mapping follows the original modules' attribute names (audioldm2/latent_diffusion/modules/diffusionmodules/
openaimodel.py and model.py, audioldm2/hifigan/models.py, the CLAP text branch = transformers' RobertaModel) onto
diffusers' UNet2DConditionModel / AudioLDM2UNet2DConditionModel, AutoencoderKL and transformers' SpeechT5HifiGan and
ClapTextModelWithProjection. Tensors are copied as they are, except the VAE attention's 1x1 convolutions (reshaped to
linear weights) and a vocoder kept under weight norm (folded).

The UNet: the AudioLDM 2 code builds two self-attention SpatialTransformers per attention site (extra_sa_layer plus
one for context_dim [None]); diffusers' AudioLDM2UNet2DConditionModel holds exactly that with cross_attention_dim
[None, None] per block. The AudioLDM code builds one, which diffusers' UNet2DConditionModel holds (as diffusers' own
16 kHz AudioLDM conversion does). Both take the CLAP embedding as `class_labels` (FiLM, concatenated).
"""

from __future__ import annotations

import json
import re
from typing import Callable, Optional

import torch

from core.errors import InputError
from core.models.original_format import (
    LINEAR_END,
    LINEAR_START,
    TIMESTEPS,
    UNET,
    VAE,
    VOCODER,
    Architecture,
    _vocoder_weight,
    ema_key,
)

COMPONENTS = ("scheduler", "vocoder", "vae", "text_encoder", "tokenizer", "unet")
_RESNET = {"in_layers.0": "norm1", "in_layers.2": "conv1", "emb_layers.1": "time_emb_proj", "out_layers.0": "norm2",
           "out_layers.3": "conv2", "skip_connection": "conv_shortcut"}


def model_index(arch: Architecture) -> dict:
    import diffusers

    unet = ["diffusers", "UNet2DConditionModel"] if arch.unet.transformers_per_site == 1 else \
        ["audioldm2", "AudioLDM2UNet2DConditionModel"]
    return {"_class_name": "AudioLDMPipeline", "_diffusers_version": diffusers.__version__,
            "scheduler": ["diffusers", "DDIMScheduler"], "text_encoder": ["transformers", "ClapTextModelWithProjection"],
            "tokenizer": ["transformers", "RobertaTokenizerFast"], "unet": unet, "vae": ["diffusers", "AutoencoderKL"],
            "vocoder": ["transformers", "SpeechT5HifiGan"]}


def build_component(name: str, state: dict, arch: Architecture, tokenizer=None):
    """The diffusers/transformers object for one component, its weights copied from the original state dict."""
    return {"scheduler": lambda: scheduler(), "vocoder": lambda: vocoder(state, arch),
            "vae": lambda: vae(state, arch), "text_encoder": lambda: text_encoder(state, arch),
            "tokenizer": lambda: _checked_tokenizer(tokenizer, arch), "unet": lambda: unet(state, arch)}[name]()


def scheduler():
    from diffusers import DDIMScheduler

    # The original "linear" schedule is linspace(sqrt(start), sqrt(end)) ** 2: diffusers' "scaled_linear".
    return DDIMScheduler(num_train_timesteps=TIMESTEPS, beta_start=LINEAR_START, beta_end=LINEAR_END,
                         beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False, steps_offset=1,
                         prediction_type="epsilon")


def _load(model, mapped: dict, what: str) -> None:
    try:
        model.load_state_dict(mapped, strict=True)
    except RuntimeError as exc:
        text = str(exc)
        missing = re.search(r'Missing key\(s\) in state_dict: "([^"]+)"', text)
        unexpected = re.search(r'Unexpected key\(s\) in state_dict: "([^"]+)"', text)
        size = re.search(r"size mismatch for ([^:]+): (.*?)\.?$", text, re.M)
        why = (f"lacks the weights for {missing.group(1)}" if missing else
               f"has weights LOA cannot place ({unexpected.group(1)})" if unexpected else
               f"has a tensor of the wrong shape ({size.group(1)}: {size.group(2)[:120]})" if size else
               text.splitlines()[0][:160])
        raise InputError(f"the checkpoint's {what} {why}.") from None


def _copy(mapped: dict) -> dict:
    # load_state_dict copies into the model's own parameters, so the (memory-mapped) source is not cloned here;
    # half-precision sources are widened to float32 as the pipeline is saved.
    return {k: v.float() if v.is_floating_point() else v for k, v in mapped.items()}


# ---- UNet -----------------------------------------------------------------------------------------------------
def unet_key_map(state: dict, arch: Architecture) -> dict[str, str]:
    """diffusers key -> original key, for every UNet tensor."""
    g = arch.unet
    sites, per = g.transformers_per_site, g.layers_per_block
    out: dict[str, str] = {}

    def put(dst_prefix: str, src_prefix: str, resnet: bool = False) -> None:
        for key in state:
            if key.startswith(UNET + src_prefix):
                rest = key[len(UNET + src_prefix):]
                if resnet:
                    for old, new in _RESNET.items():
                        if rest.startswith(old + "."):
                            rest = new + rest[len(old):]
                out[dst_prefix + rest] = key

    for dst, src in (("time_embedding.linear_1.", "time_embed.0."), ("time_embedding.linear_2.", "time_embed.2."),
                     ("class_embedding.", "film_emb."), ("conv_in.", "input_blocks.0.0."),
                     ("conv_norm_out.", "out.0."), ("conv_out.", "out.2.")):
        put(dst, src)
    block = 1
    levels = len(g.block_out_channels)
    for level in range(levels):
        for r in range(per):
            put(f"down_blocks.{level}.resnets.{r}.", f"input_blocks.{block}.0.", resnet=True)
            for s in range(sites if g.attention_levels[level] else 0):
                put(f"down_blocks.{level}.attentions.{r * sites + s}.", f"input_blocks.{block}.{1 + s}.")
            block += 1
        if level != levels - 1:
            put(f"down_blocks.{level}.downsamplers.0.conv.", f"input_blocks.{block}.0.op.")
            block += 1
    put("mid_block.resnets.0.", "middle_block.0.", resnet=True)
    for s in range(sites):
        put(f"mid_block.attentions.{s}.", f"middle_block.{1 + s}.")
    put("mid_block.resnets.1.", f"middle_block.{1 + sites}.", resnet=True)
    block = 0
    for up, level in enumerate(reversed(range(levels))):
        attn = sites if g.attention_levels[level] else 0
        for r in range(per + 1):
            put(f"up_blocks.{up}.resnets.{r}.", f"output_blocks.{block}.0.", resnet=True)
            for s in range(attn):
                put(f"up_blocks.{up}.attentions.{r * sites + s}.", f"output_blocks.{block}.{1 + s}.")
            if level and r == per:
                put(f"up_blocks.{up}.upsamplers.0.conv.", f"output_blocks.{block}.{1 + attn}.conv.")
            block += 1
    return out


def unet_config(arch: Architecture) -> dict:
    g = arch.unet
    down = tuple("CrossAttnDownBlock2D" if a else "DownBlock2D" for a in g.attention_levels)
    up = tuple("CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(g.attention_levels))
    frames = round(arch.known["duration"] * arch.known["sampling_rate"] / arch.known["hop"])
    config = dict(sample_size=frames // 2 ** (len(arch.vae.block_out_channels) - 1), in_channels=g.in_channels,
                  out_channels=g.out_channels, down_block_types=down, up_block_types=up,
                  block_out_channels=g.block_out_channels, layers_per_block=g.layers_per_block,
                  attention_head_dim=g.heads, transformer_layers_per_block=g.transformer_depth,
                  class_embed_type="simple_projection", projection_class_embeddings_input_dim=g.film_dim,
                  class_embeddings_concat=True)
    if g.transformers_per_site == 1:
        config["cross_attention_dim"] = g.block_out_channels  # attn2 is fed no states: self-attention
    else:
        config["cross_attention_dim"] = tuple([None] * g.transformers_per_site for _ in g.block_out_channels)
    return config


def unet(state: dict, arch: Architecture):
    from diffusers import UNet2DConditionModel
    from diffusers.pipelines.audioldm2 import AudioLDM2UNet2DConditionModel

    cls = UNet2DConditionModel if arch.unet.transformers_per_site == 1 else AudioLDM2UNet2DConditionModel
    model = cls(**unet_config(arch))
    source = (lambda k: state[ema_key(k)]) if arch.unet.use_ema else (lambda k: state[k])
    _load(model, _copy({dst: source(src) for dst, src in unet_key_map(state, arch).items()}), "UNet")
    return model


# ---- VAE ------------------------------------------------------------------------------------------------------
def vae_mapped(state: dict, arch: Architecture) -> dict:
    levels = len(arch.vae.block_out_channels)
    if any(k.startswith(VAE) and ".conv_shortcut." in k for k in state):
        raise InputError("the VAE uses 3x3 shortcut convolutions; the known layout (and diffusers) use 1x1.")
    out = {}
    for key, value in state.items():
        if not key.startswith(VAE) or key.startswith(VOCODER):
            continue
        k = key[len(VAE):]
        k = re.sub(r"^encoder\.down\.(\d+)\.block\.(\d+)\.", r"encoder.down_blocks.\1.resnets.\2.", k)
        k = re.sub(r"^encoder\.down\.(\d+)\.downsample\.", r"encoder.down_blocks.\1.downsamplers.0.", k)
        k = re.sub(r"^decoder\.up\.(\d+)\.block\.(\d+)\.",
                   lambda m: f"decoder.up_blocks.{levels - 1 - int(m.group(1))}.resnets.{m.group(2)}.", k)
        k = re.sub(r"^decoder\.up\.(\d+)\.upsample\.",
                   lambda m: f"decoder.up_blocks.{levels - 1 - int(m.group(1))}.upsamplers.0.", k)
        k = re.sub(r"\.mid\.block_(\d)\.", lambda m: f".mid_block.resnets.{int(m.group(1)) - 1}.", k)
        k = re.sub(r"\.mid\.attn_1\.(norm|q|k|v|proj_out)\.",
                   lambda m: ".mid_block.attentions.0." + {"norm": "group_norm", "q": "to_q", "k": "to_k",
                                                          "v": "to_v", "proj_out": "to_out.0"}[m.group(1)] + ".", k)
        k = k.replace(".nin_shortcut.", ".conv_shortcut.").replace("norm_out.", "conv_norm_out.")
        if ".attentions.0.to_" in k and k.endswith(".weight") and value.dim() == 4:
            value = value[:, :, 0, 0]  # 1x1 convolution -> linear
        out[k] = value
    return out


def vae(state: dict, arch: Architecture):
    from diffusers import AutoencoderKL

    g = arch.vae
    n = len(g.block_out_channels)
    frames = round(arch.known["duration"] * arch.known["sampling_rate"] / arch.known["hop"])
    model = AutoencoderKL(in_channels=g.in_channels, out_channels=g.out_channels,
                          down_block_types=("DownEncoderBlock2D",) * n, up_block_types=("UpDecoderBlock2D",) * n,
                          block_out_channels=g.block_out_channels, layers_per_block=g.layers_per_block,
                          latent_channels=g.latent_channels, sample_size=frames, scaling_factor=g.scaling_factor)
    _load(model, _copy(vae_mapped(state, arch)), "VAE")
    return model


# ---- vocoder --------------------------------------------------------------------------------------------------
def vocoder_mapped(state: dict, arch: Architecture) -> dict:
    out = {}
    for key in state:
        if not key.startswith(VOCODER):
            continue
        module = key[len(VOCODER):].rsplit(".", 1)[0]
        name = key.rsplit(".", 1)[1]
        dst = re.sub(r"^ups\.", "upsampler.", module)
        if name in ("weight", "weight_g", "weight_v"):
            out[dst + ".weight"] = _vocoder_weight(state, VOCODER + module)
        else:
            out[dst + "." + name] = state[key]
    out["mean"] = torch.zeros(arch.vocoder.num_mels)  # unused: normalize_before is False in the original
    out["scale"] = torch.ones(arch.vocoder.num_mels)
    return out


def vocoder(state: dict, arch: Architecture):
    from transformers import SpeechT5HifiGan, SpeechT5HifiGanConfig

    g = arch.vocoder
    model = SpeechT5HifiGan(SpeechT5HifiGanConfig(
        model_in_dim=g.num_mels, sampling_rate=g.sampling_rate, upsample_initial_channel=g.initial_channel,
        upsample_rates=g.upsample_rates, upsample_kernel_sizes=g.upsample_kernel_sizes,
        resblock_kernel_sizes=g.resblock_kernel_sizes, resblock_dilation_sizes=g.resblock_dilation_sizes,
        normalize_before=False))
    _load(model, _copy(vocoder_mapped(state, arch)), "vocoder")
    return model


# ---- CLAP text encoder ----------------------------------------------------------------------------------------
_TEXT_BUFFERS = ("embeddings.position_ids", "embeddings.token_type_ids")


def text_mapped(state: dict, arch: Architecture) -> dict:
    prefix = arch.text.prefix
    out = {}
    for key, value in state.items():
        if key.startswith(prefix + "text_branch."):
            rest = key[len(prefix + "text_branch."):]
            if rest not in _TEXT_BUFFERS:
                out["text_model." + rest] = value
        elif key.startswith(prefix + "text_projection."):
            rest = key[len(prefix + "text_projection."):]
            layer, name = rest.split(".", 1)
            out[f"text_projection.{ {'0': 'linear1', '2': 'linear2'}.get(layer, layer)}.{name}"] = value
    return out


def text_encoder(state: dict, arch: Architecture):
    from transformers import ClapTextConfig, ClapTextModelWithProjection

    g = arch.text
    # The original text branch is RobertaModel(RobertaConfig("roberta-base")): GELU, LayerNorm eps 1e-5, pad id 1.
    config = ClapTextConfig(vocab_size=g.vocab_size, hidden_size=g.hidden_size, num_hidden_layers=g.layers,
                            num_attention_heads=g.heads, intermediate_size=g.intermediate_size,
                            max_position_embeddings=g.max_positions, type_vocab_size=g.type_vocab_size,
                            projection_dim=g.projection_dim, layer_norm_eps=1e-5, hidden_act="gelu",
                            projection_hidden_act="relu", pad_token_id=1, bos_token_id=0, eos_token_id=2)
    model = ClapTextModelWithProjection(config)
    mapped = text_mapped(state, arch)
    for name, buffer in model.state_dict().items():  # buffers the original kept outside its state dict
        if name.startswith("text_model.") and name[len("text_model."):] in _TEXT_BUFFERS:
            mapped[name] = buffer
    _load(model, _copy(mapped), "CLAP text encoder")
    return model


def _checked_tokenizer(tokenizer, arch: Architecture):
    if tokenizer is None:
        raise InputError("no CLAP (RoBERTa) tokenizer was given for the conversion.")
    if len(tokenizer) > arch.text.vocab_size:
        raise InputError(f"the RoBERTa tokenizer has {len(tokenizer)} tokens but the checkpoint's CLAP text branch "
                         f"knows {arch.text.vocab_size}.")
    return tokenizer


def card(arch: Architecture, licence: str, source: str) -> str:
    return (f"---\nlicense: {licence}\ntags:\n- text-to-audio\n---\n# {arch.known['name']} (converted by LOA Studio)\n\n"
            f"Converted once from the original-format checkpoint `{source}` into diffusers' AudioLDMPipeline layout: "
            f"{arch.known['sampling_rate']} Hz, {arch.vocoder.num_mels} mel bins, hop {arch.known['hop']}.\n")


def save_component(obj, folder, name: str) -> None:
    if name in ("tokenizer", "scheduler"):
        obj.save_pretrained(str(folder / name))
    else:
        obj.save_pretrained(str(folder / name), safe_serialization=True)


def write_index(folder, arch: Architecture, licence: str, source: str) -> None:
    (folder / "README.md").write_text(card(arch, licence, source))
    (folder / "model_index.json").write_text(json.dumps(model_index(arch), indent=2))


def convert_into(folder, state: dict, arch: Architecture, tokenizer, licence: str, source: str,
                 progress: Optional[Callable[[str, float], None]] = None) -> None:
    """Write every component missing from `folder` (each via a temp folder and a rename, so a rerun after an
    interruption keeps the whole ones), then the card and model_index.json last."""
    import shutil

    for n, name in enumerate(COMPONENTS):
        target = folder / name
        if target.is_dir():
            continue
        if progress:
            progress(name, n / len(COMPONENTS))
        part = folder / f".{name}.partial"
        shutil.rmtree(part, ignore_errors=True)
        try:
            obj = build_component(name, state, arch, tokenizer)
        except (IndexError, KeyError, TypeError, ValueError) as exc:  # shapes the architecture check let through
            raise InputError(f"the checkpoint's {name} tensors do not fit together ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0][:120] if str(exc) else ''}).") from None
        save_component(obj, folder, part.name)
        del obj
        part.rename(target)
    write_index(folder, arch, licence, source)
    if progress:
        progress("done", 1.0)
