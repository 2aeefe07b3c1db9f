"""Reading an original-format AudioLDM / AudioLDM 2 checkpoint (`.pth` from the authors' training code) and
inferring its architecture from its own tensors.

The key names are the original code's: `model.diffusion_model.*` (openaimodel.UNetModel), `model_ema.*` (its
LitEma shadow, used at inference by the original sampler), `first_stage_model.*` (the VAE, with the HiFi-GAN vocoder
under `first_stage_model.vocoder.*`), `cond_stage_models.0.model.*` (AudioLDM 2 code) or `cond_stage_model.model.*`
(AudioLDM code) for the CLAP model whose text branch conditions the UNet by FiLM, and `scale_factor`.

Rates, mel geometry and the vocoder's strides come from the model's known configuration (the AudioLDM 2
repository's get_audioldm_48k_config / get_vocoder_config_48k, or AudioLDM's 16 kHz one), chosen by the vocoder's mel
bins; every width, channel multiplier, layer count and attention-head count is read from the tensors' shapes.
Anything that does not fit raises InputError with one line naming it.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch

from core.errors import InputError, first_line

UNET = "model.diffusion_model."
VAE = "first_stage_model."
VOCODER = "first_stage_model.vocoder."
CLAP_PREFIXES = ("cond_stage_models.0.model.", "cond_stage_model.model.")
HEAD_CHANNELS = 32  # num_head_channels of every AudioLDM / AudioLDM 2 UNet config
TEXT_HEAD_WIDTH = 64  # RoBERTa-base's per-head width (the CLAP text branch is RobertaConfig("roberta-base"))

# The configurations the original code builds, told apart by the vocoder's mel bins.
KNOWN = {
    256: dict(name="AudioLDM 48 kHz", sampling_rate=48_000, hop=480, n_fft=2048, fmin=20, fmax=24_000,
              upsample_rates=[6, 5, 4, 2, 2], upsample_kernel_sizes=[12, 10, 8, 4, 4],
              resblock_dilation=[1, 3, 5], duration=10.24),
    64: dict(name="AudioLDM 16 kHz", sampling_rate=16_000, hop=160, n_fft=1024, fmin=0, fmax=8_000,
             upsample_rates=[5, 4, 2, 2, 2], upsample_kernel_sizes=[16, 16, 8, 4, 4],
             resblock_dilation=[1, 3, 5], duration=10.24),
}
LINEAR_START, LINEAR_END, TIMESTEPS = 0.0015, 0.0195, 1000


def load_state_dict(path: Path, trusted: bool = False) -> dict:
    """The checkpoint's state dict (tensors only). Loaded with weights_only=True; a file that needs more than plain
    tensors and containers is refused unless `trusted` (the catalog's own download from the authors' repo)."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint file.")
    if path.stat().st_size == 0:
        raise InputError(f"{name} is empty (0 bytes): download or copy it again.")
    try:
        ckpt = _torch_load(path, weights_only=True)
    except pickle.UnpicklingError as exc:
        if _not_a_pickle(exc):  # random bytes, another kind of file: not "more than weights"
            raise InputError(f"{name} is damaged or cut short, not a whole PyTorch checkpoint ({_pickle_detail(exc)}); "
                             "download or copy it again.") from None
        if not trusted:
            raise InputError(f"{name} holds more than weights ({_pickle_detail(exc)}); LOA reads only plain tensors "
                             "from a file it did not download itself.") from None
        ckpt = _torch_load(path, weights_only=False)
    if not isinstance(ckpt, dict):
        raise InputError(f"{name} holds a {type(ckpt).__name__}, not a checkpoint (a table of tensors).")
    state = ckpt.get("state_dict", ckpt)
    if not isinstance(state, dict) or not state:
        raise InputError(f"{name} has no state_dict table of weights.")
    bad = [k for k, v in state.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise InputError(f"{name}: state_dict entry {str(bad[0])[:60]!r} is not a named tensor.")
    return state


def _torch_load(path: Path, weights_only: bool):
    try:
        try:
            return torch.load(path, map_location="cpu", weights_only=weights_only, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            return torch.load(path, map_location="cpu", weights_only=weights_only)  # legacy (non-zip) format
    except pickle.UnpicklingError:
        raise
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, KeyError, AttributeError) as exc:
        raise InputError(f"{path.name} is damaged or cut short, not a whole PyTorch checkpoint ({_short(exc)}); "
                         "download or copy it again.") from None


def _not_a_pickle(exc: BaseException) -> bool:
    """torch's weights-only reader met bytes that are no pickle opcode (its own error names the byte)."""
    return bool(re.search(r"Unsupported operand|invalid load key", str(exc)))


def _pickle_detail(exc: BaseException) -> str:
    """What torch's weights-only reader objected to, in a few words (its first line is only boilerplate)."""
    text = str(exc)
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if found:
        return f"a Python object {found.group(1)}"
    detail = re.search(r"WeightsUnpickler error:\s*([^\n]+)", text)
    return (detail.group(1) if detail else first_line(exc)).strip().rstrip(".")[:120]


def _short(exc: BaseException) -> str:
    return first_line(exc).rstrip(".")[:160]


@dataclass(frozen=True)
class UNetGeometry:
    in_channels: int
    out_channels: int
    model_channels: int
    block_out_channels: tuple
    layers_per_block: int
    attention_levels: tuple  # per level: whether it has transformers
    transformers_per_site: int  # 1 (AudioLDM code) or 2 (AudioLDM 2 code: extra_sa_layer)
    transformer_depth: int
    heads: tuple  # per level
    film_dim: int
    use_ema: bool


@dataclass(frozen=True)
class VaeGeometry:
    in_channels: int
    out_channels: int
    block_out_channels: tuple
    layers_per_block: int
    latent_channels: int
    scaling_factor: float


@dataclass(frozen=True)
class VocoderGeometry:
    num_mels: int
    initial_channel: int
    upsample_rates: list
    upsample_kernel_sizes: list
    resblock_kernel_sizes: list
    resblock_dilation_sizes: list
    sampling_rate: int
    weight_norm: bool


@dataclass(frozen=True)
class TextGeometry:
    prefix: str
    vocab_size: int
    hidden_size: int
    layers: int
    heads: int
    intermediate_size: int
    max_positions: int
    type_vocab_size: int
    projection_dim: int


@dataclass(frozen=True)
class Architecture:
    known: dict
    unet: UNetGeometry
    vae: VaeGeometry
    vocoder: VocoderGeometry
    text: TextGeometry


def _indices(state: dict, prefix: str) -> list[int]:
    pat = re.compile(re.escape(prefix) + r"(\d+)\.")
    return sorted({int(m.group(1)) for k in state if (m := pat.match(k))})


def _need(state: dict, key: str, what: str) -> torch.Tensor:
    if key not in state:
        raise InputError(f"the checkpoint has no {key} ({what}): not an AudioLDM checkpoint of the known layout.")
    return state[key]


def infer_architecture(state: dict) -> Architecture:
    """The checkpoint's architecture; InputError (one line) for anything that does not fit the known layout."""
    try:
        return _infer(state)
    except (IndexError, KeyError, TypeError, AttributeError, ValueError, ZeroDivisionError) as exc:
        raise InputError(f"the checkpoint's tensors do not have the shapes of an AudioLDM checkpoint "
                         f"({type(exc).__name__}: {_short(exc)}).") from None


def _infer(state: dict) -> Architecture:
    if not any(k.startswith(UNET) for k in state):
        raise InputError(f"the checkpoint has no UNet weights ({UNET}*): not an original-format AudioLDM checkpoint.")
    if "cond_stage_models.1.model.transformer.wte.weight" in state or any(
            k.startswith("cond_stage_models.") and ".transformer.h." in k for k in state):
        raise InputError("this is an AudioLDM 2 checkpoint that cross-attends to GPT-2/T5 (AudioLDM 2 full, music or "
                         "speech): use its diffusers release (cvssp/audioldm2...) instead of the .pth.")
    vocoder = _vocoder(state)
    unet, text = _unet(state), _text(state)
    if unet.film_dim != text.projection_dim:
        raise InputError(f"the UNet's FiLM input is {unet.film_dim}-wide but the CLAP text embedding is "
                         f"{text.projection_dim}-wide.")
    return Architecture(KNOWN[vocoder.num_mels], unet, _vae(state), vocoder, text)


def _unet(state: dict) -> UNetGeometry:
    conv_in = _need(state, UNET + "input_blocks.0.0.weight", "UNet input convolution")
    model_channels, in_channels = conv_in.shape[0], conv_in.shape[1]
    out_channels = _need(state, UNET + "out.2.weight", "UNet output convolution").shape[0]
    film = _need(state, UNET + "film_emb.weight", "the FiLM projection of the CLAP text embedding")
    time_dim = _need(state, UNET + "time_embed.0.weight", "UNet time embedding").shape[0]
    if time_dim != 4 * model_channels:
        raise InputError(f"UNet time embedding is {time_dim}-wide, not 4 x its {model_channels} channels.")
    if film.shape[0] != time_dim:
        raise InputError(f"UNet film_emb maps to {film.shape[0]} channels but the time embedding has {time_dim}.")
    if any(k.startswith(UNET) and ".attn2.to_k.weight" in k and state[k].shape[1] != state[k].shape[0]
           for k in state):
        raise InputError("the UNet cross-attends to a text encoder; LOA imports only CLAP-FiLM AudioLDM checkpoints "
                         "(use the diffusers release of this model instead).")
    levels: list[list[int]] = [[]]  # input block ids per level
    for i in _indices(state, UNET + "input_blocks.")[1:]:
        if UNET + f"input_blocks.{i}.0.op.weight" in state:
            levels.append([])
        elif UNET + f"input_blocks.{i}.0.in_layers.2.weight" in state:
            levels[-1].append(i)
        else:
            raise InputError(f"UNet input_blocks.{i} is neither a residual block nor a downsampler.")
    counts = {len(level) for level in levels}
    if len(counts) != 1 or 0 in counts:
        raise InputError(f"UNet levels hold {sorted(len(v) for v in levels)} residual blocks; the layout needs the "
                         "same number in every level.")
    per_level = counts.pop()
    widths, attention, sites, depths = [], [], set(), set()
    for level in levels:
        widths.append(state[UNET + f"input_blocks.{level[0]}.0.in_layers.2.weight"].shape[0])
        found = [_transformers(state, f"input_blocks.{i}.") for i in level]
        attention.append(bool(found[0]))
        for t in found:
            if bool(t) != attention[-1]:
                raise InputError(f"UNet level {len(widths) - 1} has attention in some residual blocks only.")
            if t:
                sites.add(len(t))
                depths.update(t)
    mid = _transformers(state, "middle_block.")
    if not mid:
        raise InputError("UNet middle_block has no transformer (attention) layers.")
    sites.add(len(mid))
    depths.update(mid)
    if len(sites) != 1 or len(depths) != 1:
        raise InputError(f"UNet attention sites hold {sorted(sites)} transformers of depths {sorted(depths)}; the "
                         "layout needs the same everywhere.")
    output_count = len(_indices(state, UNET + "output_blocks."))
    if output_count != len(levels) * (per_level + 1):
        raise InputError(f"UNet has {output_count} output blocks; {len(levels)} levels of {per_level} residual blocks "
                         f"need {len(levels) * (per_level + 1)}.")
    if widths[0] != model_channels:
        raise InputError(f"UNet first level is {widths[0]}-wide, not its {model_channels} base channels.")
    bad = [w for w in widths if w % HEAD_CHANNELS]
    if bad:
        raise InputError(f"UNet width {bad[0]} is not a multiple of the {HEAD_CHANNELS}-channel attention heads.")
    return UNetGeometry(in_channels, out_channels, model_channels, tuple(widths), per_level, tuple(attention),
                        sites.pop(), depths.pop(), tuple(w // HEAD_CHANNELS for w in widths), film.shape[1],
                        _has_ema(state))


def _transformers(state: dict, block: str) -> list[int]:
    """Depth of each SpatialTransformer in a TimestepEmbedSequential block (empty when it has none)."""
    out = []
    for j in _indices(state, UNET + block):
        if UNET + f"{block}{j}.proj_in.weight" in state:
            out.append(len(_indices(state, UNET + f"{block}{j}.transformer_blocks.")))
    return out


def _has_ema(state: dict) -> bool:
    """Whether the LitEma shadow holds every UNet parameter (the original sampler runs under ema_scope)."""
    unet = [k for k in state if k.startswith(UNET)]
    return bool(unet) and all(ema_key(k) in state for k in unet)


def ema_key(key: str) -> str:
    return "model_ema." + key[len("model."):].replace(".", "")


def _vae(state: dict) -> VaeGeometry:
    conv_in = _need(state, VAE + "encoder.conv_in.weight", "VAE encoder input")
    levels = _indices(state, VAE + "encoder.down.")
    if not levels:
        raise InputError("the VAE encoder has no down levels (first_stage_model.encoder.down.*).")
    widths = [_need(state, VAE + f"encoder.down.{i}.block.0.conv1.weight", "VAE block").shape[0] for i in levels]
    blocks = len(_indices(state, VAE + "encoder.down.0.block."))
    if any(k.startswith((VAE + "encoder.down.", VAE + "decoder.up.")) and ".attn." in k for k in state):
        raise InputError("the VAE has attention inside its levels (attn_resolutions); the known layout has none.")
    for i in levels[:-1]:
        kernel = _need(state, VAE + f"encoder.down.{i}.downsample.conv.weight", "VAE downsampler").shape[-1]
        if kernel != 3:
            raise InputError(f"VAE level {i} downsamples time by 4 (kernel {kernel}); the known layout halves it.")
    if len(_indices(state, VAE + "decoder.up.")) != len(levels):
        raise InputError("the VAE decoder and encoder have different numbers of levels.")
    z = _need(state, VAE + "decoder.conv_in.weight", "VAE decoder input").shape[1]
    embed = _need(state, VAE + "post_quant_conv.weight", "VAE post-quantisation convolution").shape[0]
    if embed != z:
        raise InputError(f"VAE embed_dim {embed} differs from z_channels {z}; diffusers' AutoencoderKL needs them equal.")
    scale = state.get("scale_factor")
    scaling = float(scale.reshape(-1)[0]) if isinstance(scale, torch.Tensor) and scale.numel() == 1 else 1.0
    out = _need(state, VAE + "decoder.conv_out.weight", "VAE decoder output").shape[0]
    return VaeGeometry(conv_in.shape[1], out, tuple(widths), blocks, z, scaling)


def _vocoder_weight(state: dict, key: str) -> Optional[torch.Tensor]:
    """A vocoder conv weight, folded from weight_g/weight_v when the checkpoint kept weight norm."""
    if key + ".weight" in state:
        return state[key + ".weight"]
    g, v = state.get(key + ".weight_g"), state.get(key + ".weight_v")
    if g is None or v is None:
        return None
    return g * v / v.norm(dim=tuple(range(1, v.dim())), keepdim=True)  # weight_norm's default dim=0


def _vocoder(state: dict) -> VocoderGeometry:
    pre = _vocoder_weight(state, VOCODER + "conv_pre")
    if pre is None:
        raise InputError(f"the checkpoint has no HiFi-GAN vocoder ({VOCODER}conv_pre): not an AudioLDM checkpoint.")
    mels = pre.shape[1]
    if mels not in KNOWN:
        raise InputError(f"the vocoder reads {mels} mel bins; LOA knows the 48 kHz (256) and 16 kHz (64) AudioLDM "
                         "vocoders.")
    known = KNOWN[mels]
    ups = _indices(state, VOCODER + "ups.")
    kernels = [_vocoder_weight(state, VOCODER + f"ups.{i}").shape[-1] for i in ups]
    if kernels != known["upsample_kernel_sizes"]:
        raise InputError(f"the vocoder's upsampling kernels {kernels} are not the {known['name']} vocoder's "
                         f"{known['upsample_kernel_sizes']}.")
    resblocks = _indices(state, VOCODER + "resblocks.")
    if not resblocks or len(resblocks) % len(ups):
        raise InputError(f"the vocoder has {len(resblocks)} residual blocks for {len(ups)} upsamplers.")
    per = len(resblocks) // len(ups)
    rb_kernels = [_vocoder_weight(state, VOCODER + f"resblocks.{j}.convs1.0").shape[-1] for j in range(per)]
    dilations = len(_indices(state, VOCODER + "resblocks.0.convs1."))
    if dilations > len(known["resblock_dilation"]):
        raise InputError(f"the vocoder's residual blocks have {dilations} dilated convolutions; the known has "
                         f"{len(known['resblock_dilation'])}.")
    return VocoderGeometry(mels, pre.shape[0], known["upsample_rates"], kernels, rb_kernels,
                           [known["resblock_dilation"][:dilations]] * per, known["sampling_rate"],
                           VOCODER + "conv_pre.weight_g" in state)


def _text(state: dict) -> TextGeometry:
    prefix = next((p for p in CLAP_PREFIXES if p + "text_branch.embeddings.word_embeddings.weight" in state), None)
    if prefix is None:
        raise InputError("the checkpoint has no CLAP text encoder (cond_stage_model(s).model.text_branch.*): LOA "
                         "imports AudioLDM checkpoints conditioned on CLAP text embeddings.")
    words = state[prefix + "text_branch.embeddings.word_embeddings.weight"]
    hidden = words.shape[1]
    layers = _indices(state, prefix + "text_branch.encoder.layer.")
    if not layers:
        raise InputError("the CLAP text branch has no transformer layers.")
    if hidden % TEXT_HEAD_WIDTH:
        raise InputError(f"the CLAP text branch width {hidden} is not a multiple of RoBERTa's {TEXT_HEAD_WIDTH}-wide "
                         "heads.")
    inter = _need(state, prefix + "text_branch.encoder.layer.0.intermediate.dense.weight", "CLAP text MLP").shape[0]
    positions = _need(state, prefix + "text_branch.embeddings.position_embeddings.weight", "CLAP positions").shape[0]
    types = _need(state, prefix + "text_branch.embeddings.token_type_embeddings.weight", "CLAP token types").shape[0]
    projection = _need(state, prefix + "text_projection.2.weight", "CLAP text projection").shape[0]
    return TextGeometry(prefix, words.shape[0], hidden, len(layers), hidden // TEXT_HEAD_WIDTH, inter, positions,
                        types, projection)
