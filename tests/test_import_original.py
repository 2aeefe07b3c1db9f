"""The importer: a tiny original-format AudioLDM checkpoint (tests/tiny_original_audioldm.py, 48 kHz geometry, the
original code's key names) converted into diffusers' AudioLDMPipeline layout, into the model store, and used."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hf_cache import install_into_cache
from small_disks import mounted_tmpfs
from tiny_original_audioldm import GEOMETRY_16K_V1, build_tiny_checkpoint, save_tokenizer

from core.cli.main import main
from core.errors import InputError
from core.models.imported import CLAP_TOKENIZER_REPO, find_converted, import_checkpoint
from core.models.original_format import infer_architecture, load_state_dict

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_pth(tmp_path_factory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("orig") / "audioldm_48k.pth")


@pytest.fixture(scope="module")
def tokenizer_folder(tmp_path_factory) -> Path:
    return save_tokenizer(tmp_path_factory.mktemp("tok") / "clap-tokenizer")


@pytest.fixture
def with_tokenizer(hf_home, tokenizer_folder) -> Path:
    """The CLAP tokenizer in the Hugging Face cache, as a machine that fetched it once has it."""
    return install_into_cache(tokenizer_folder, CLAP_TOKENIZER_REPO, hf_home)


def _pipeline(folder):
    from diffusers import AudioLDMPipeline

    from core.quiet import quiet_model_libraries

    quiet_model_libraries()
    pipe = AudioLDMPipeline.from_pretrained(folder)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def test_the_tiny_checkpoint_converts_and_its_pipeline_makes_48k_audio(tiny_pth, with_tokenizer):
    stages = []
    folder = import_checkpoint(tiny_pth, progress=lambda stage, f: stages.append((stage, f)))
    assert {"unet", "vae", "vocoder", "text_encoder", "tokenizer", "done"} <= {s for s, _ in stages}
    assert [f for _, f in stages] == sorted(f for _, f in stages)  # progress only goes forward
    pipe = _pipeline(folder)
    assert type(pipe).__name__ == "AudioLDMPipeline"
    assert type(pipe.unet).__name__ == "AudioLDM2UNet2DConditionModel"  # two self-attention transformers per site
    assert pipe.unet.config.class_embed_type == "simple_projection" and pipe.unet.config.class_embeddings_concat
    assert pipe.vae.config.latent_channels == 16 and pipe.vocoder.config.model_in_dim == 256
    assert pipe.vocoder.config.sampling_rate == 48_000 and pipe.vocoder.config.upsample_rates == [6, 5, 4, 2, 2]
    audio = pipe("a dog barking", num_inference_steps=2, audio_length_in_s=0.64,
                 generator=torch.Generator().manual_seed(0)).audios
    assert audio.shape == (1, round(0.64 * 48_000)) and torch.isfinite(torch.as_tensor(audio)).all()
    assert float(abs(torch.as_tensor(audio)).max()) > 0


def test_converted_weights_are_the_source_tensors(tiny_pth, with_tokenizer):
    src = load_state_dict(tiny_pth)
    pipe = _pipeline(import_checkpoint(tiny_pth))
    unet, vae, voc, text = (m.state_dict() for m in (pipe.unet, pipe.vae, pipe.vocoder, pipe.text_encoder))

    def ema(key):  # the original sampler runs under ema_scope: the shadow weights are the model
        return src["model_ema." + key[len("model."):].replace(".", "")]

    u = "model.diffusion_model."
    assert torch.equal(unet["class_embedding.weight"], ema(u + "film_emb.weight"))
    assert not torch.equal(unet["class_embedding.weight"], src[u + "film_emb.weight"])
    # input_blocks.3 = level 1's residual block, then its extra self-attention transformer (.1) and the one for
    # context_dim None (.2): diffusers' attentions 0 and 1 of down block 1.
    assert torch.equal(unet["down_blocks.1.attentions.1.transformer_blocks.0.attn1.to_q.weight"],
                       ema(u + "input_blocks.3.2.transformer_blocks.0.attn1.to_q.weight"))
    assert torch.equal(unet["down_blocks.1.resnets.0.time_emb_proj.weight"], ema(u + "input_blocks.3.0.emb_layers.1.weight"))
    assert torch.equal(unet["mid_block.resnets.1.conv2.weight"], ema(u + "middle_block.3.out_layers.3.weight"))
    assert torch.equal(unet["up_blocks.0.upsamplers.0.conv.weight"], ema(u + "output_blocks.1.3.conv.weight"))
    f = "first_stage_model."
    # The VAE attention's 1x1 convolutions become linear weights: same numbers, the two unit axes dropped.
    assert torch.equal(vae["encoder.mid_block.attentions.0.to_q.weight"], src[f + "encoder.mid.attn_1.q.weight"][:, :, 0, 0])
    assert torch.equal(vae["decoder.mid_block.attentions.0.to_out.0.weight"],
                       src[f + "decoder.mid.attn_1.proj_out.weight"][:, :, 0, 0])
    assert torch.equal(vae["decoder.up_blocks.3.resnets.0.conv1.weight"], src[f + "decoder.up.0.block.0.conv1.weight"])
    assert torch.equal(vae["encoder.down_blocks.2.resnets.0.conv_shortcut.weight"],
                       src[f + "encoder.down.2.block.0.nin_shortcut.weight"])
    assert pipe.vae.config.scaling_factor == pytest.approx(0.75)
    assert torch.equal(voc["upsampler.2.weight"], src[f + "vocoder.ups.2.weight"])
    assert torch.equal(voc["resblocks.3.convs2.1.weight"], src[f + "vocoder.resblocks.3.convs2.1.weight"])
    c = "cond_stage_models.0.model."
    assert torch.equal(text["text_model.encoder.layer.0.attention.self.query.weight"],
                       src[c + "text_branch.encoder.layer.0.attention.self.query.weight"])
    assert torch.equal(text["text_projection.linear2.weight"], src[c + "text_projection.2.weight"])
    assert not any("audio" in k for k in text)  # the HTSAT audio branch (and its qkv) is left behind
    assert torch.allclose(pipe.scheduler.betas, src["betas"], atol=1e-7)


def test_widths_are_read_from_the_tensors_of_two_geometries(tmp_path, with_tokenizer):
    narrow = build_tiny_checkpoint(tmp_path / "a.pth", ema=False,
                                   unet=dict(mc=32, mult=(1, 3), res=2, attn=(1, 2), sites=2, depth=2))
    wide = build_tiny_checkpoint(tmp_path / "b.pth", ema=False, **GEOMETRY_16K_V1)
    a, b = infer_architecture(load_state_dict(narrow)), infer_architecture(load_state_dict(wide))
    assert (a.unet.block_out_channels, a.unet.layers_per_block, a.unet.attention_levels, a.unet.heads,
            a.unet.transformers_per_site, a.unet.transformer_depth) == ((32, 96), 2, (True, True), (1, 3), 2, 2)
    assert (b.unet.block_out_channels, b.unet.layers_per_block, b.unet.attention_levels, b.unet.heads,
            b.unet.transformers_per_site, b.unet.in_channels) == ((64, 128, 128), 2, (False, True, True), (2, 4, 4), 1, 8)
    assert (a.vae.block_out_channels, a.vae.latent_channels) == ((32, 32, 64, 64), 16)
    assert (b.vae.block_out_channels, b.vae.latent_channels) == ((32, 64, 64), 8)
    assert (a.vocoder.sampling_rate, a.vocoder.resblock_kernel_sizes) == (48_000, [3, 7])
    assert (b.vocoder.sampling_rate, b.vocoder.num_mels, b.vocoder.resblock_kernel_sizes) == (16_000, 64, [3])
    for pth, rate, unet_class, weights in ((narrow, 48_000, "AudioLDM2UNet2DConditionModel", a),
                                           (wide, 16_000, "UNet2DConditionModel", b)):
        pipe = _pipeline(import_checkpoint(pth))
        assert type(pipe.unet).__name__ == unet_class and pipe.vocoder.config.sampling_rate == rate
        assert tuple(pipe.unet.config.block_out_channels) == weights.unet.block_out_channels
        audio = pipe("rain", num_inference_steps=2, audio_length_in_s=0.64,
                     generator=torch.Generator().manual_seed(1)).audios
        assert audio.shape == (1, round(0.64 * rate))
    src = load_state_dict(wide)  # no EMA in the file: the model's own weights
    unet = _pipeline(import_checkpoint(wide)).unet.state_dict()
    assert torch.equal(unet["down_blocks.2.attentions.1.proj_in.weight"],
                       src["model.diffusion_model.input_blocks.8.1.proj_in.weight"])


def _cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_cut_short_checkpoint_is_refused_in_one_line(tiny_pth, tmp_path, capsys, with_tokenizer):
    cut = tmp_path / "cut.pth"
    cut.write_bytes(tiny_pth.read_bytes()[: tiny_pth.stat().st_size // 2])
    with pytest.raises(InputError, match="damaged or cut short"):
        import_checkpoint(cut)
    code, out, err = _cli(capsys, "generate", "a dog", "--model", str(cut), "-o", str(tmp_path / "x.wav"))
    assert code == 2 and "cut.pth is damaged or cut short" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "x.wav").exists()


def test_a_checkpoint_with_wrong_keys_is_refused_in_one_line(tiny_pth, tmp_path, capsys, with_tokenizer):
    other = tmp_path / "classifier.pth"
    torch.save({"state_dict": {"backbone.fc.weight": torch.zeros(2, 2)}}, other)
    code, _, err = _cli(capsys, "generate", "a dog", "--model", str(other), "-o", str(tmp_path / "x.wav"))
    assert code == 2 and "no UNet weights (model.diffusion_model.*)" in err and len(err.strip().splitlines()) == 1
    state = torch.load(tiny_pth, weights_only=True)
    del state["state_dict"]["first_stage_model.decoder.mid.attn_1.k.bias"]
    holed = tmp_path / "holed.pth"
    torch.save(state, holed)
    with pytest.raises(InputError, match="VAE lacks the weights for decoder.mid_block.attentions.0.to_k.bias"):
        import_checkpoint(holed)
    assert find_converted(holed) is None


def test_an_interrupted_conversion_leaves_nothing_loadable_and_a_rerun_finishes(tiny_pth, tmp_path, with_tokenizer,
                                                                                  hf_home):
    copy = tmp_path / "mine.pth"
    shutil.copyfile(tiny_pth, copy)
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests'}"}
    script = ("import sys\nfrom core.models.imported import import_checkpoint\n"
              "def p(stage, f):\n    print(stage, flush=True)\n"
              "import_checkpoint(sys.argv[1], progress=p)\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(copy)], stdout=subprocess.PIPE, text=True, env=env,
                            cwd=REPO)
    seen = []
    for line in proc.stdout:
        seen.append(line.strip())
        if line.strip() == "text_encoder":  # vocoder and VAE written, the rest not
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(60)
    assert proc.returncode == -signal.SIGKILL and "vae" in seen
    assert find_converted(copy) is None  # the store names no folder for it: nothing half-made can load
    from core.models.imported import content_hash, store_root

    digest = content_hash(copy)[:20]
    partial = store_root() / f".{digest}.partial"
    assert (partial / "vae").is_dir() and not (partial / "unet").exists()
    vae_made = (partial / "vae" / "config.json").stat().st_mtime_ns
    stages = []
    folder = import_checkpoint(copy, progress=lambda s, f: stages.append(s))
    assert folder.name == digest and not partial.exists() and "vae" not in stages and "unet" in stages
    assert (folder / "vae" / "config.json").stat().st_mtime_ns == vae_made  # kept, not redone
    assert _pipeline(folder).vocoder.config.sampling_rate == 48_000


def test_an_injected_failure_mid_conversion_is_redone_cleanly(tiny_pth, tmp_path, with_tokenizer):
    copy = tmp_path / "other.pth"
    shutil.copyfile(tiny_pth, copy)
    with pytest.raises(KeyboardInterrupt):
        import_checkpoint(copy, _fail_after="unet")
    assert find_converted(copy) is None
    assert (import_checkpoint(copy) / "unet" / "config.json").is_file()


def test_the_same_content_is_converted_once_and_reused_by_its_hash(tiny_pth, tmp_path, with_tokenizer):
    first = import_checkpoint(tiny_pth)
    index_made = (first / "model_index.json").stat().st_mtime_ns
    elsewhere = tmp_path / "renamed-copy.pth"
    shutil.copyfile(tiny_pth, elsewhere)
    stages = []
    again = import_checkpoint(elsewhere, progress=lambda s, f: stages.append(s))
    assert again == first and set(stages) == {"checking"}  # hashed, not converted
    assert (first / "model_index.json").stat().st_mtime_ns == index_made
    stages.clear()
    assert import_checkpoint(elsewhere, progress=lambda s, f: stages.append(s)) == first and stages == []  # memo


def test_loa_generate_runs_an_original_checkpoint_end_to_end_at_48k(tiny_pth, tmp_path, capsys, with_tokenizer):
    import soundfile as sf

    out = tmp_path / "take.wav"
    code, _, err = _cli(capsys, "generate", "a dog barking", "--model", str(tiny_pth), "--seconds", "0.5",
                        "--steps", "2", "--candidates", "1", "--device", "cpu", "-o", str(out))
    assert code == 0, err
    info = sf.info(out)
    assert info.samplerate == 48_000 and info.frames == 24_000
    converted = find_converted(tiny_pth)
    assert converted is not None
    made = (converted / "model_index.json").stat().st_mtime_ns
    again = tmp_path / "again.wav"
    code, _, err = _cli(capsys, "generate", "rain", "--model", str(tiny_pth), "--seconds", "0.5", "--steps", "2",
                        "--candidates", "1", "--device", "cpu", "-o", str(again))
    assert code == 0 and sf.info(again).samplerate == 48_000
    assert (converted / "model_index.json").stat().st_mtime_ns == made  # reused, not converted again
    code, out, _ = _cli(capsys, "models", "list", "--json")
    row = next(r for r in json.loads(out) if r["folder"] == str(converted))
    assert code == 0 and row["title"] == "audioldm_48k.pth (converted)" and row["sample_rate"] == 48_000
    code, out, _ = _cli(capsys, "models", "list")
    assert any(line.startswith(str(converted)) and "48 kHz" in line for line in out.splitlines())


def test_the_full_size_48k_layout_maps_onto_diffusers_shapes(monkeypatch):
    """At the real model's widths (get_audioldm_48k_config, get_vocoder_config_48k, roberta-base), on the meta
    device (shapes only, no memory): every original tensor has a diffusers home of the same shape, and back."""
    import tiny_original_audioldm as orig

    from core.models import original_convert as conv

    monkeypatch.setattr(orig, "_t", lambda *shape: torch.empty(*shape, device="meta"))
    monkeypatch.setattr(orig, "_norm", lambda sd, n, c: sd.update({n + ".weight": torch.empty(c, device="meta"),
                                                                 n + ".bias": torch.empty(c, device="meta")}))
    from transformers import RobertaConfig, RobertaModel

    with torch.device("meta"):
        roberta = RobertaModel(RobertaConfig(vocab_size=50265, max_position_embeddings=514, type_vocab_size=1))
    state = {"scale_factor": torch.tensor(0.5)}
    state.update(orig.unet_state(mc=128, mult=(1, 2, 3, 5), res=2, attn=(8, 4, 2), sites=2))
    state.update(orig.vae_state(ch=128, mult=(1, 2, 4, 8), res=2, z=16))
    state.update(orig.vocoder_state(initial=1536, rb_kernels=(3, 7, 11, 15)))
    prefix = "cond_stage_models.0.model."
    state.update({prefix + "text_branch." + k: v for k, v in roberta.state_dict().items()})
    for name, out, inp in (("text_projection.0", 512, 768), ("text_projection.2", 512, 512)):
        state[f"{prefix}{name}.weight"] = torch.empty(out, inp, device="meta")
        state[f"{prefix}{name}.bias"] = torch.empty(out, device="meta")
    arch = infer_architecture(state)
    assert arch.unet.block_out_channels == (128, 256, 384, 640) and arch.unet.heads == (4, 8, 12, 20)
    assert arch.unet.attention_levels == (False, True, True, True) and arch.unet.layers_per_block == 2
    assert arch.vae.block_out_channels == (128, 256, 512, 1024) and arch.vocoder.initial_channel == 1536
    assert (arch.text.hidden_size, arch.text.layers, arch.text.heads) == (768, 12, 12)
    assert conv.unet_config(arch)["sample_size"] == 128  # 10.24 s: 1024 frames / 8

    def same(model, mapped: dict, what: str) -> None:
        want = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        have = {k: tuple(v.shape) for k, v in mapped.items()}
        assert have == want, what

    from diffusers import AutoencoderKL
    from diffusers.pipelines.audioldm2 import AudioLDM2UNet2DConditionModel
    from transformers import ClapTextConfig, ClapTextModelWithProjection, SpeechT5HifiGan, SpeechT5HifiGanConfig

    with torch.device("meta"):
        unet = AudioLDM2UNet2DConditionModel(**conv.unet_config(arch))
        same(unet, {d: state[s] for d, s in conv.unet_key_map(state, arch).items()}, "UNet")
        g = arch.vae
        vae = AutoencoderKL(in_channels=1, out_channels=1, down_block_types=("DownEncoderBlock2D",) * 4,
                            up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=g.block_out_channels,
                            layers_per_block=2, latent_channels=16)
        same(vae, conv.vae_mapped(state, arch), "VAE")
        v = arch.vocoder
        hifigan = SpeechT5HifiGan(SpeechT5HifiGanConfig(
            model_in_dim=256, sampling_rate=48_000, upsample_initial_channel=1536, upsample_rates=v.upsample_rates,
            upsample_kernel_sizes=v.upsample_kernel_sizes, resblock_kernel_sizes=v.resblock_kernel_sizes,
            resblock_dilation_sizes=v.resblock_dilation_sizes, normalize_before=False))
        same(hifigan, conv.vocoder_mapped(state, arch), "vocoder")
        text = ClapTextModelWithProjection(ClapTextConfig(projection_dim=512))
        mapped = conv.text_mapped(state, arch)
        mapped.update({k: v for k, v in text.state_dict().items() if k.endswith(("position_ids", "token_type_ids"))})
        same(text, mapped, "CLAP text")


def test_a_vocoder_saved_under_weight_norm_is_folded_to_the_same_weights(tmp_path, with_tokenizer):
    from tiny_original_audioldm import roberta_tokenizer, tiny_state

    state = tiny_state(len(roberta_tokenizer()) + 8, ema=False)
    plain = dict(state)
    for key in [k for k in state if k.startswith("first_stage_model.vocoder.") and k.endswith(".weight")]:
        weight = state.pop(key)
        norm = weight.norm(dim=tuple(range(1, weight.dim())), keepdim=True)  # torch weight_norm, dim 0
        state[key + "_g"], state[key + "_v"] = norm, weight * 3.0  # v's scale is free: g carries the norm
    path = tmp_path / "weight_norm.pth"
    torch.save({"state_dict": state}, path)
    voc = _pipeline(import_checkpoint(path)).vocoder.state_dict()
    assert torch.allclose(voc["conv_pre.weight"], plain["first_stage_model.vocoder.conv_pre.weight"], atol=1e-6)
    assert torch.allclose(voc["upsampler.1.weight"], plain["first_stage_model.vocoder.ups.1.weight"], atol=1e-6)


def test_a_pickle_holding_more_than_tensors_is_refused_unless_it_is_the_catalogs_own(tiny_pth, tmp_path):
    import argparse

    state = torch.load(tiny_pth, weights_only=True)
    state["hyper_parameters"] = argparse.Namespace(lr=1e-4)  # what a Lightning checkpoint may carry
    path = tmp_path / "lightning.pth"
    torch.save(state, path)
    with pytest.raises(InputError, match="lightning.pth holds more than weights"):
        load_state_dict(path)
    assert "model.diffusion_model.out.2.weight" in load_state_dict(path, trusted=True)


def test_a_tensor_of_an_impossible_shape_is_refused_in_one_line(tiny_pth, tmp_path, capsys, with_tokenizer):
    state = torch.load(tiny_pth, weights_only=True)
    state["state_dict"]["first_stage_model.vocoder.conv_pre.weight"] = torch.zeros(7)  # 1-D where a kernel belongs
    odd = tmp_path / "odd.pth"
    torch.save(state, odd)
    code, _, err = _cli(capsys, "generate", "a dog", "--model", str(odd), "-o", str(tmp_path / "x.wav"))
    assert code == 2 and "do not have the shapes of an AudioLDM checkpoint" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_file_of_random_bytes_named_pth_is_called_damaged_not_a_pickle_of_objects(tmp_path, capsys, tiny_pth):
    noise = tmp_path / "noise.pth"
    noise.write_bytes(bytes(range(128, 256)) * 40)  # not a pickle at all: torch's weights-only reader says so
    for trusted in (False, True):
        with pytest.raises(InputError, match="noise.pth is damaged or cut short"):
            load_state_dict(noise, trusted=trusted)
    code, _, err = _cli(capsys, "generate", "a dog", "--model", str(noise), "-o", str(tmp_path / "x.wav"))
    assert code == 2 and "damaged or cut short" in err and "Weights only load failed" not in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    import argparse

    state = torch.load(tiny_pth, weights_only=True)
    state["hyper_parameters"] = argparse.Namespace(lr=1e-4)
    torch.save(state, tmp_path / "lightning.pth")
    with pytest.raises(InputError, match=r"holds more than weights \(a Python object argparse.Namespace\)"):
        load_state_dict(tmp_path / "lightning.pth")


def test_a_file_that_is_no_checkpoint_leaves_no_partial_folder_in_the_store(tmp_path, capsys, with_tokenizer):
    from core.models.imported import store_root

    for name, data in (("notes.pth", b"hello\n"), ("noise.pth", bytes(range(128, 256)) * 40)):
        (tmp_path / name).write_bytes(data)
        code, _, _ = _cli(capsys, "generate", "a dog", "--model", str(tmp_path / name), "-o", str(tmp_path / "x.wav"))
        assert code == 2 and (tmp_path / name).read_bytes() == data  # the user's file as it was
    torch.save({"state_dict": {"backbone.fc.weight": torch.zeros(2, 2)}}, tmp_path / "classifier.pth")
    with pytest.raises(InputError):
        import_checkpoint(tmp_path / "classifier.pth")
    assert not list(store_root().glob("*.partial")) and not [p for p in store_root().iterdir() if p.is_dir()]


def test_a_checkpoint_replaced_in_place_with_the_same_size_and_time_is_hashed_again(tmp_path):
    # a fine-tune copied over the earlier one with `cp -p` / `rsync -t` keeps its size and can keep its mtime: the
    # remembered hash must not send it to the earlier file's conversion
    import hashlib

    from core.models.imported import content_hash

    mine = tmp_path / "finetune.pth"
    mine.write_bytes(b"A" * 4096)
    first = content_hash(mine)
    stat = mine.stat()
    with open(mine, "r+b") as f:  # same file, same size, other content, time set back as cp -p would
        f.write(b"B" * 4096)
    os.utime(mine, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert mine.stat().st_mtime_ns == stat.st_mtime_ns
    assert content_hash(mine) == hashlib.sha256(b"B" * 4096).hexdigest() != first


def test_a_full_disk_while_converting_is_one_line_and_exit_2_and_a_rerun_with_room_finishes(
        tiny_pth, tmp_path, with_tokenizer, monkeypatch, capsys):
    with mounted_tmpfs(tmp_path / "disk", "96k") as disk:
        monkeypatch.setenv("LOA_DATA_DIR", str(disk))
        out = tmp_path / "take.wav"
        code = main(["generate", "rain", "--model", str(tiny_pth), "-o", str(out), "--seconds", "1", "--steps", "1"])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert err.startswith("loa: error: no space left on device writing ") and "audioldm_48k.pth" in err
        assert "LOA_DATA_DIR" in err and not out.exists()
        assert find_converted(tiny_pth) is None
        leftovers = [p.name for p in (disk / "models" / "converted").rglob("*.partial") if p.parent.name != "converted"]
        assert leftovers == []  # the component being written went; only whole ones stay for the rerun
    code = main(["generate", "rain", "--model", str(tiny_pth), "-o", str(out), "--seconds", "1", "--steps", "1"])
    assert code == 0 and out.is_file(), capsys.readouterr().err
