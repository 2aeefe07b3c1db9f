"""A tiny original-format AudioLDM checkpoint (`.pth`), as the AudioLDM 2 repository's training code saves one.

How the keys are made: the state dict is built from the original naming scheme, one helper per original module,
each following that module's constructor (audioldm2/latent_diffusion/modules/diffusionmodules/openaimodel.py
UNetModel with extra_sa_layer=True and context_dim [None]; model.py Encoder/Decoder; attention.py SpatialTransformer;
hifigan/models.py Generator after remove_weight_norm; the CLAP text branch is transformers' RobertaModel, the class
the original instantiates, so its keys are the library's own). LatentDiffusion's buffers (betas..., scale_factor,
logvar), the LitEma shadow (`model_ema.*`, optional) and a stand-in CLAP audio branch are included as the real file
has them. Geometry is the 48 kHz model's (256 mel bins, vocoder strides [6,5,4,2,2] with kernels [12,10,8,4,4], 16
latent channels, VAE /8); widths are tiny (multiples of 32: the original GroupNorms have 32 groups).
"""

from __future__ import annotations

from pathlib import Path

import torch

_gen = torch.Generator().manual_seed(0)


def _t(*shape) -> torch.Tensor:
    return torch.randn(*shape, generator=_gen) * 0.1


def _lin(sd, name, out, inp, bias=True):
    sd[name + ".weight"] = _t(out, inp)
    if bias:
        sd[name + ".bias"] = _t(out)


def _conv(sd, name, out, inp, k, dims=2):
    sd[name + ".weight"] = _t(out, inp, *([k] * dims))
    sd[name + ".bias"] = _t(out)


def _norm(sd, name, c):
    sd[name + ".weight"] = 1 + _t(c)
    sd[name + ".bias"] = _t(c)


def _resblock(sd, p, ch, out, emb):  # openaimodel.ResBlock
    _norm(sd, p + "in_layers.0", ch)
    _conv(sd, p + "in_layers.2", out, ch, 3)
    _lin(sd, p + "emb_layers.1", out, emb)
    _norm(sd, p + "out_layers.0", out)
    _conv(sd, p + "out_layers.3", out, out, 3)
    if out != ch:
        _conv(sd, p + "skip_connection", out, ch, 1)


def _attention(sd, p, dim, context=None):  # attention.CrossAttention (to_q/k/v without bias)
    _lin(sd, p + "to_q", dim, dim, bias=False)
    _lin(sd, p + "to_k", dim, context or dim, bias=False)
    _lin(sd, p + "to_v", dim, context or dim, bias=False)
    _lin(sd, p + "to_out.0", dim, dim)


def _spatial_transformer(sd, p, ch, depth=1):  # attention.SpatialTransformer, context_dim None
    _norm(sd, p + "norm", ch)
    _conv(sd, p + "proj_in", ch, ch, 1)
    for d in range(depth):
        b = p + f"transformer_blocks.{d}."
        _attention(sd, b + "attn1.", ch)
        _lin(sd, b + "ff.net.0.proj", ch * 4 * 2, ch)  # GEGLU
        _lin(sd, b + "ff.net.2", ch, ch * 4)
        _attention(sd, b + "attn2.", ch)
        for n in (1, 2, 3):
            _norm(sd, b + f"norm{n}", ch)
    _conv(sd, p + "proj_out", ch, ch, 1)


def unet_state(mc=32, mult=(1, 2), res=1, attn=(2,), in_ch=16, film=512, sites=2, depth=1) -> dict:
    """openaimodel.UNetModel(model_channels=mc, channel_mult=mult, num_res_blocks=res, attention_resolutions=attn,
    extra_film_condition_dim=film, context_dim=[None] (sites=2, AudioLDM 2 code) or AudioLDM's one per site)."""
    sd: dict = {}
    p = "model.diffusion_model."
    ted = mc * 4
    emb = ted * 2  # FiLM concatenated to the time embedding
    _lin(sd, p + "time_embed.0", ted, mc)
    _lin(sd, p + "time_embed.2", ted, ted)
    _lin(sd, p + "film_emb", ted, film)
    _conv(sd, p + "input_blocks.0.0", mc, in_ch, 3)
    chans, ch, ds, block = [mc], mc, 1, 1
    for level, m in enumerate(mult):
        for _ in range(res):
            _resblock(sd, p + f"input_blocks.{block}.0.", ch, m * mc, emb)
            ch = m * mc
            if ds in attn:
                for s in range(sites):
                    _spatial_transformer(sd, p + f"input_blocks.{block}.{1 + s}.", ch, depth)
            chans.append(ch)
            block += 1
        if level != len(mult) - 1:
            _conv(sd, p + f"input_blocks.{block}.0.op", ch, ch, 3)
            chans.append(ch)
            block += 1
            ds *= 2
    _resblock(sd, p + "middle_block.0.", ch, ch, emb)
    for s in range(sites):
        _spatial_transformer(sd, p + f"middle_block.{1 + s}.", ch, depth)
    _resblock(sd, p + f"middle_block.{1 + sites}.", ch, ch, emb)
    block = 0
    for level, m in list(enumerate(mult))[::-1]:
        for i in range(res + 1):
            ich = chans.pop()
            _resblock(sd, p + f"output_blocks.{block}.0.", ch + ich, mc * m, emb)
            ch = mc * m
            n = 1
            if ds in attn:
                for s in range(sites):
                    _spatial_transformer(sd, p + f"output_blocks.{block}.{1 + s}.", ch, depth)
                n += sites
            if level and i == res:
                _conv(sd, p + f"output_blocks.{block}.{n}.conv", ch, ch, 3)
                ds //= 2
            block += 1
    _norm(sd, p + "out.0", ch)
    _conv(sd, p + "out.2", in_ch, mc, 3)
    return sd


def _vae_resnet(sd, p, ch, out):  # model.ResnetBlock, temb_channels 0
    _norm(sd, p + "norm1", ch)
    _conv(sd, p + "conv1", out, ch, 3)
    _norm(sd, p + "norm2", out)
    _conv(sd, p + "conv2", out, out, 3)
    if out != ch:
        _conv(sd, p + "nin_shortcut", out, ch, 1)


def _vae_mid(sd, p, ch):
    _vae_resnet(sd, p + "mid.block_1.", ch, ch)
    _norm(sd, p + "mid.attn_1.norm", ch)
    for n in ("q", "k", "v", "proj_out"):
        _conv(sd, p + f"mid.attn_1.{n}", ch, ch, 1)
    _vae_resnet(sd, p + "mid.block_2.", ch, ch)


def vae_state(ch=32, mult=(1, 1, 2, 2), res=1, z=16) -> dict:
    """latent_encoder.autoencoder.AutoencoderKL's Encoder/Decoder (attn_resolutions [], double_z) + quant convs."""
    sd: dict = {}
    p = "first_stage_model."
    _conv(sd, p + "encoder.conv_in", ch, 1, 3)
    block_in = ch
    for i, m in enumerate(mult):
        for j in range(res):
            _vae_resnet(sd, p + f"encoder.down.{i}.block.{j}.", block_in, ch * m)
            block_in = ch * m
        if i != len(mult) - 1:
            _conv(sd, p + f"encoder.down.{i}.downsample.conv", block_in, block_in, 3)
    _vae_mid(sd, p + "encoder.", block_in)
    _norm(sd, p + "encoder.norm_out", block_in)
    _conv(sd, p + "encoder.conv_out", 2 * z, block_in, 3)
    block_in = ch * mult[-1]
    _conv(sd, p + "decoder.conv_in", block_in, z, 3)
    _vae_mid(sd, p + "decoder.", block_in)
    for i in reversed(range(len(mult))):
        for j in range(res + 1):
            _vae_resnet(sd, p + f"decoder.up.{i}.block.{j}.", block_in, ch * mult[i])
            block_in = ch * mult[i]
        if i != 0:
            _conv(sd, p + f"decoder.up.{i}.upsample.conv", block_in, block_in, 3)
    _norm(sd, p + "decoder.norm_out", block_in)
    _conv(sd, p + "decoder.conv_out", 1, block_in, 3)
    _conv(sd, p + "quant_conv", 2 * z, 2 * z, 1)
    _conv(sd, p + "post_quant_conv", z, z, 1)
    return sd


def vocoder_state(initial=64, mels=256, rates=(6, 5, 4, 2, 2), kernels=(12, 10, 8, 4, 4), rb_kernels=(3, 7),
                  dilations=(1, 3, 5)) -> dict:
    """hifigan.models.Generator (get_vocoder_config_48k geometry) after remove_weight_norm."""
    sd: dict = {}
    p = "first_stage_model.vocoder."
    _conv(sd, p + "conv_pre", initial, mels, 7, dims=1)
    for i, (u, k) in enumerate(zip(rates, kernels)):
        sd[p + f"ups.{i}.weight"] = _t(initial // 2 ** i, initial // 2 ** (i + 1), k)  # ConvTranspose1d
        sd[p + f"ups.{i}.bias"] = _t(initial // 2 ** (i + 1))
    n = 0
    for i in range(len(rates)):
        ch = initial // 2 ** (i + 1)
        for k in rb_kernels:
            for c in ("convs1", "convs2"):
                for d in range(len(dilations)):
                    _conv(sd, p + f"resblocks.{n}.{c}.{d}", ch, ch, k, dims=1)
            n += 1
    _conv(sd, p + "conv_post", 1, initial // 2 ** len(rates), 7, dims=1)
    return sd


def clap_state(vocab: int, hidden=64, layers=1, projection=512, prefix="cond_stage_models.0.model.") -> dict:
    """CLAP (open_clip model.py, tmodel "roberta"): text_branch = RobertaModel, text_transform / text_projection
    MLPs, and a stand-in for the HTSAT audio branch (the converter must ignore it)."""
    from transformers import RobertaConfig, RobertaModel

    torch.manual_seed(1)
    roberta = RobertaModel(RobertaConfig(vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers,
                                         num_attention_heads=hidden // 64, intermediate_size=hidden * 2,
                                         max_position_embeddings=96, type_vocab_size=1, layer_norm_eps=1e-5))
    sd = {prefix + "text_branch." + k: v.clone() for k, v in roberta.state_dict().items()}
    _lin(sd, prefix + "text_transform.sequential.0", projection, projection)
    _lin(sd, prefix + "text_transform.sequential.3", projection, projection)
    _lin(sd, prefix + "text_projection.0", projection, hidden)
    _lin(sd, prefix + "text_projection.2", projection, projection)
    _lin(sd, prefix + "audio_branch.layers.0.blocks.0.attn.qkv", 3 * 32, 32)  # stand-in for HTSAT-base
    _lin(sd, prefix + "audio_projection.0", projection, 32)
    sd[prefix + "logit_scale_a"] = torch.tensor(2.0)
    sd[prefix + "logit_scale_t"] = torch.tensor(2.0)
    return sd


def tiny_state(vocab: int, ema: bool = True, unet: dict | None = None, vae: dict | None = None,
               vocoder: dict | None = None, clap_prefix: str = "cond_stage_models.0.model.") -> dict:
    sd = {}
    betas = torch.linspace(0.0015 ** 0.5, 0.0195 ** 0.5, 1000, dtype=torch.float64) ** 2
    sd["betas"] = betas.float()
    sd["alphas_cumprod"] = torch.cumprod(1 - betas, 0).float()
    sd["logvar"] = torch.zeros(1000)
    sd["scale_factor"] = torch.tensor(0.75)
    u = unet_state(**(unet or {}))
    sd.update(u)
    if ema:
        sd["model_ema.decay"] = torch.tensor(0.9999)
        sd["model_ema.num_updates"] = torch.tensor(10, dtype=torch.int32)
        for k, v in u.items():
            sd["model_ema." + k[len("model."):].replace(".", "")] = v + 0.01  # a shadow that differs
    sd.update(vae_state(**(vae or {})))
    sd.update(vocoder_state(**(vocoder or {})))
    sd.update(clap_state(vocab, prefix=clap_prefix))
    return sd


def roberta_tokenizer():
    from tiny_pipeline import _train_tokenizers

    return _train_tokenizers()[0]


def save_tokenizer(folder: Path) -> Path:
    roberta_tokenizer().save_pretrained(str(folder))
    return Path(folder)


# AudioLDM (v1) code at 16 kHz: one transformer per attention site, 64 mel bins, VAE /4 into 8 channels.
GEOMETRY_16K_V1 = dict(unet=dict(mc=64, mult=(1, 2, 2), res=2, attn=(2, 4), in_ch=8, sites=1),
                       vae=dict(ch=32, mult=(1, 2, 2), z=8),
                       vocoder=dict(mels=64, rates=(5, 4, 2, 2, 2), kernels=(16, 16, 8, 4, 4), rb_kernels=(3,)),
                       clap_prefix="cond_stage_model.model.")


def build_tiny_checkpoint(path: Path, ema: bool = True, **kwargs) -> Path:
    """Save the tiny checkpoint at `path` as the original code does: {"state_dict": ..., plus training metadata}."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    vocab = len(roberta_tokenizer()) + 8
    torch.save({"state_dict": tiny_state(vocab, ema=ema, **kwargs), "epoch": 3, "global_step": 1200}, path)
    return path
