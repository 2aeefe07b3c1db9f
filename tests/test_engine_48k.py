"""The 48 kHz AudioLDM model (AudioLDMPipeline layout, FiLM on a CLAP text embedding) through the same engine API as
the 16 kHz models: rate, lengths, seeds, negative prompt, guidance, progress, cancel, prompt cache, CLAP ranking with
an installed AudioLDM 2 model's CLAP, and latents equal to a DDIM loop written from the original repository's code."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from engine_checks import assert_cancel_is_honoured_within_one_step

from core.generation import sampling, scorer
from core.generation.engine import Engine
from core.generation.requests import GenerationRequest

FAST = dict(seconds=1.0, steps=2)


@pytest.fixture(scope="module")
def engine48(tiny_48k_model):
    return Engine(tiny_48k_model, device="cpu", precision="fp32")


def test_the_48k_model_under_test_is_the_importers_output(tiny_48k_model):
    """Every 48 kHz capability test runs on what users get: an original-format checkpoint converted by the importer
    (tests/conftest.py tiny_48k_model), not a folder built in diffusers' layout."""
    import json

    def config(name):
        return json.loads((tiny_48k_model / name).read_text())

    assert config("loa_source.json")["format"] == "original AudioLDM checkpoint"
    assert config("loa_source.json")["file"] == "tiny-audioldm-48k.pth"
    assert config("unet/config.json")["_class_name"] == "AudioLDM2UNet2DConditionModel"  # two transformers a site
    assert config("vae/config.json")["scaling_factor"] == pytest.approx(0.75)  # the checkpoint's scale_factor
    vocoder = config("vocoder/config.json")
    assert (vocoder["sampling_rate"], vocoder["model_in_dim"]) == (48_000, 256)


def test_takes_are_48k_of_the_requested_length_with_their_own_seeds(engine48):
    assert (engine48.kind, engine48.sample_rate) == ("audioldm", 48_000)  # read before the model loads
    result = engine48.generate(GenerationRequest("rain on a tin roof", seconds=1.3, steps=2, candidates=3, seed=20))
    assert result.sample_rate == 48_000 and engine48.loaded
    assert [c.clip.sample_rate for c in result.candidates] == [48_000] * 3
    assert [c.clip.frames for c in result.candidates] == [62_400] * 3  # 1.3 s * 48 kHz, cut from 136 mel frames
    assert sorted(c.seed for c in result.candidates) == [20, 21, 22]
    assert all(np.isfinite(c.clip.samples).all() and np.abs(c.clip.samples).max() > 0 for c in result.candidates)


def test_a_candidate_is_reproduced_alone_by_its_seed(engine48):
    three = engine48.generate(GenerationRequest("footsteps on gravel", candidates=3, seed=40, **FAST))
    pick = next(c for c in three.candidates if c.seed == 41)
    again = engine48.generate(GenerationRequest("footsteps on gravel", candidates=1, seed=41, **FAST))
    # equal up to float rounding (a batch of three runs other kernel blockings than a batch of one)
    np.testing.assert_allclose(again.best.clip.samples, pick.clip.samples, atol=1e-5)
    other = next(c for c in three.candidates if c.seed == 42)
    assert not np.allclose(again.best.clip.samples, other.clip.samples, atol=1e-4)


def test_negative_prompt_and_guidance_change_the_take(engine48):
    def take(**kw):
        return engine48.generate(GenerationRequest("birds chirping", seed=9, **FAST, **kw)).best.clip.samples

    plain = take()
    assert not np.allclose(plain, take(negative_prompt="low quality, noise"))
    assert not np.allclose(plain, take(guidance=1.0))  # unguided: no negative half at all
    np.testing.assert_array_equal(plain, take())


def test_progress_and_cancel(engine48):
    seen = []
    engine48.generate(GenerationRequest("wind", seed=3, seconds=1.0, steps=4), progress=seen.append)
    assert [(p.step, p.total) for p in seen if p.stage == "denoising"] == [(i, 4) for i in range(5)]
    assert seen[0].stage == "encoding" and "decoding" in [p.stage for p in seen]
    assert_cancel_is_honoured_within_one_step(engine48)


def test_a_reroll_comes_from_the_prompt_cache_and_matches_an_uncached_run(engine48, tiny_48k_model):
    pipe = engine48.load()
    calls = []
    handle = pipe.text_encoder.register_forward_hook(lambda *_: calls.append(1))
    try:
        engine48.sample_latents(GenerationRequest("a piano melody", negative_prompt="hiss", seed=1, **FAST).validated())
        assert calls
        calls.clear()
        hits = engine48.prompt_cache.hits
        reroll = GenerationRequest("a piano melody", negative_prompt="hiss", seed=8, steps=3, guidance=5.0,
                                   scheduler="ddim", seconds=0.5).validated()
        cached, _, _ = engine48.sample_latents(reroll)
        assert not calls and engine48.prompt_cache.hits == hits + 1
        assert all(key.kind == "audioldm" for key in engine48.prompt_cache._entries)
    finally:
        handle.remove()
    fresh = Engine(tiny_48k_model, device="cpu", precision="fp32")
    fresh.prompt_cache.max_entries = 0
    uncached, _, _ = fresh.sample_latents(reroll)
    assert torch.equal(cached, uncached)


def test_a_prompt_longer_than_clap_reads_is_cut_once_and_said(engine48, tiny_model_dir, hf_home):
    """The 48 kHz model reads the prompt with CLAP's tokenizer only; a prompt past its window is cut at a word, the
    cut words are what both the model and the lent ranking CLAP read, and the result says so."""
    from hf_cache import install_into_cache

    install_into_cache(tiny_model_dir, "cvssp/audioldm2", hf_home)
    scorer.forget()
    long_prompt = " ".join(["rain on a tin roof"] * 30)
    result = engine48.generate(GenerationRequest(long_prompt, candidates=2, seed=2, **FAST))
    assert result.prompt_used and long_prompt.startswith(result.prompt_used) and len(result.prompt_used) < 300
    assert any("only its first" in note for note in result.notes)
    assert all(-1 <= c.score <= 1 for c in result.candidates)
    scorer.forget()


# ---- ranking -----------------------------------------------------------------------------------------------------

def test_without_an_audioldm2_model_the_takes_keep_seed_order_and_say_why(engine48):
    result = engine48.generate(GenerationRequest("thunder and heavy rain", candidates=3, seed=5, **FAST))
    assert [c.seed for c in result.candidates] == [5, 6, 7] and all(c.score is None for c in result.candidates)
    assert result.notes == [scorer.NO_SCORER_NOTE]
    assert "loa models download cvssp/audioldm2" in result.notes[0]
    assert result.provenance(result.best).settings["scored_by"] == scorer.UNRANKED


def test_an_installed_audioldm2_model_lends_its_clap_to_rank_the_takes(engine48, tiny_model_dir, hf_home):
    from hf_cache import install_into_cache
    from transformers import ClapFeatureExtractor, ClapModel, RobertaTokenizerFast

    folder = install_into_cache(tiny_model_dir, "cvssp/audioldm2", hf_home)
    scorer.forget()
    result = engine48.generate(GenerationRequest("crowd cheering in a stadium", candidates=3, seed=30, **FAST))
    scores = [c.score for c in result.candidates]
    assert None not in scores and scores == sorted(scores, reverse=True) and result.notes == []
    assert result.provenance(result.best).settings["scored_by"] == "CLAP of cvssp/audioldm2"

    # The same numbers from the AudioLDM 2 model's CLAP, run here by hand on the takes (48 kHz: CLAP's own rate).
    clap = ClapModel.from_pretrained(folder / "text_encoder", dtype=torch.float32).eval()
    tokens = RobertaTokenizerFast.from_pretrained(folder / "tokenizer")(["crowd cheering in a stadium"],
                                                                       return_tensors="pt")
    fe = ClapFeatureExtractor.from_pretrained(folder / "feature_extractor")
    features = fe([c.clip.mono for c in result.candidates], sampling_rate=48_000, return_tensors="pt")
    with torch.no_grad():
        out = clap(input_ids=tokens.input_ids, attention_mask=tokens.attention_mask,
                   input_features=features.input_features)
    expected = (out.text_embeds @ out.audio_embeds.T)[0].numpy()
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-5)
    scorer.forget()


def test_a_lender_whose_clap_cannot_load_costs_the_ranking_not_the_takes(engine48, tiny_model_dir, hf_home):
    import json

    from hf_cache import install_into_cache

    folder = install_into_cache(tiny_model_dir, "cvssp/audioldm2", hf_home)
    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text())
    index_path.unlink()  # a symlink into the cache's blobs: replaced, not written through
    index_path.write_text(json.dumps({**index, "tokenizer": ["transformers", "NoSuchTokenizerFast"]}))
    scorer.forget()
    result = engine48.generate(GenerationRequest("rain on a tin roof", candidates=2, seed=12, **FAST))
    assert [c.seed for c in result.candidates] == [12, 13] and result.best.score is None
    assert result.best.settings["scored_by"] == scorer.UNRANKED_BROKEN
    assert len(result.notes) == 1 and result.notes[0].startswith("the takes are in seed order, not ranked: Cannot "
                                                                 "load the ranking CLAP of cvssp/audioldm2")


# ---- the original repository's DDIM sampling ---------------------------------------------------------------------

def original_ddim(unet, x_T, cond, uncond, steps, scale):
    """audioldm2/latent_diffusion: ddpm.py register_schedule with util.make_beta_schedule("linear", 1000, 0.0015,
    0.0195); ddim.py make_schedule (make_ddim_timesteps "uniform", make_ddim_sampling_parameters with eta 0) and
    ddim_sampling / p_sample_ddim with classifier-free guidance (two model calls, e_uncond + s (e_c - e_uncond));
    DiffusionWrapper's "film" key feeds the CLAP embedding as y (here: the converted UNet's class_labels)."""
    betas = (torch.linspace(0.0015 ** 0.5, 0.0195 ** 0.5, 1000, dtype=torch.float64) ** 2).numpy()
    alphas_cumprod = torch.tensor(np.cumprod(1.0 - betas, axis=0), dtype=torch.float32)
    c = 1000 // steps
    ddim_timesteps = np.asarray(list(range(0, 1000, c))) + 1
    alphas = alphas_cumprod[ddim_timesteps]
    alphas_prev = np.asarray([alphas_cumprod[0]] + alphas_cumprod[ddim_timesteps[:-1]].tolist())
    sigmas = 0.0 * np.sqrt((1 - alphas_prev) / (1 - alphas.numpy()) * (1 - alphas.numpy() / alphas_prev))
    sqrt_one_minus_alphas = np.sqrt(1.0 - alphas.numpy())
    b = x_T.shape[0]
    img = x_T
    time_range = np.flip(ddim_timesteps)
    for i, step in enumerate(time_range):
        index = len(time_range) - i - 1
        ts = torch.full((b,), int(step), dtype=torch.long)
        e_uncond = unet(img, ts, encoder_hidden_states=None, class_labels=uncond).sample
        e_cond = unet(img, ts, encoder_hidden_states=None, class_labels=cond).sample
        e_t = e_uncond + scale * (e_cond - e_uncond)
        a_t = torch.full((b, 1, 1, 1), float(alphas[index]))
        a_prev = torch.full((b, 1, 1, 1), float(alphas_prev[index]))
        sigma_t = torch.full((b, 1, 1, 1), float(sigmas[index]))
        sqrt_one_minus_at = torch.full((b, 1, 1, 1), float(sqrt_one_minus_alphas[index]))
        pred_x0 = (img - sqrt_one_minus_at * e_t) / a_t.sqrt()
        dir_xt = (1.0 - a_prev - sigma_t ** 2).sqrt() * e_t
        img = a_prev.sqrt() * pred_x0 + dir_xt  # + sigma_t * noise, zero at eta 0
    return img


def original_text_embedding(pipe, texts):
    """CLAPAudioEmbeddingClassifierFreev2 in embed_mode "text": tokenised to max_length, CLAP's projected text
    embedding, L2-normalised (clap/open_clip/model.py get_text_embedding)."""
    tokens = pipe.tokenizer(texts, padding="max_length", truncation=True,
                            max_length=pipe.tokenizer.model_max_length, return_tensors="pt")
    out = pipe.text_encoder(input_ids=tokens.input_ids, attention_mask=tokens.attention_mask)
    return F.normalize(out.text_embeds, dim=-1)


@pytest.mark.parametrize("steps", [10, 25])
def test_our_latents_equal_the_original_ddim_loop(engine48, steps):
    prompt, scale = "metal door slam in a large hall", 3.5
    request = GenerationRequest(prompt, seconds=2.0, steps=steps, guidance=scale, scheduler="ddim", candidates=2,
                                seed=123).validated()
    ours, seeds, _ = engine48.sample_latents(request)
    pipe = engine48.pipeline
    with torch.inference_mode():
        x_T = sampling.initial_noise(pipe, seeds, sampling.latent_rows_for(pipe, request.seconds), "cpu",
                                     torch.float32)
        cond = original_text_embedding(pipe, [prompt]).repeat(2, 1)
        uncond = original_text_embedding(pipe, [""]).repeat(2, 1)  # the original's unconditional token
        theirs = original_ddim(pipe.unet, x_T, cond, uncond, steps, scale)
    assert ours.dtype == torch.float32 and ours.shape == theirs.shape == (2, 16, 25, 32)
    rel = float(torch.linalg.vector_norm(ours - theirs) / torch.linalg.vector_norm(theirs))
    print(f"rel L2 ours vs original DDIM ({steps} steps): {rel:.2e}")
    assert rel <= 1e-5


# ---- the in-context hooks ---------------------------------------------------------------------------------------

class PinRows:
    """A trivial LatentConstraint: the first `rows` latent rows held at `known` before and after every step."""

    def __init__(self, known: torch.Tensor, rows: int) -> None:
        self.known, self.rows, self.calls = known, rows, 0

    def _pin(self, latents):
        latents = latents.clone()
        latents[:, :, : self.rows] = self.known[:, :, : self.rows]
        return latents

    def start(self, latents, first_timestep):
        self.calls += 1
        return self._pin(latents)

    def after_step(self, latents, next_timestep):
        self.calls += 1
        return self._pin(latents)


def test_a_latent_constraint_and_init_latents_work_on_the_48k_kind(engine48):
    request = GenerationRequest("rain on a tin roof", seed=2, steps=4, **{"seconds": 1.0}).validated()
    frames = sampling.latent_rows_for(engine48.pipeline, 1.0)
    plain, _, _ = engine48.sample_latents(request, mel_frames=frames)
    known = torch.randn(plain.shape, generator=torch.Generator().manual_seed(0))
    pin = PinRows(known, rows=5)
    pinned, _, _ = engine48.sample_latents(request, constraint=pin, mel_frames=frames)
    assert pin.calls == 1 + 4
    assert torch.equal(pinned[:, :, :5], known[:, :, :5]) and not torch.allclose(pinned[:, :, 5:], plain[:, :, 5:])

    seen = []
    moved, _, _ = engine48.sample_latents(request, progress=seen.append, mel_frames=frames, init_latents=known,
                                          strength=0.5)
    assert [p.total for p in seen if p.stage == "denoising"][-1] == 2  # half the steps, from the noised input
    assert not torch.allclose(moved, plain)
    assert float((moved - known).norm()) < float((plain - known).norm())  # it kept something of the input

    result = engine48.generate(request, constraint=PinRows(known, 5), mel_frames=frames)
    assert result.best.clip.frames == frames * 480 and result.best.clip.sample_rate == 48_000


# ---- the CLI and the fast path ----------------------------------------------------------------------------------

def test_loa_generate_writes_48k_files_of_the_right_length(tiny_48k_model, tmp_path, capsys):
    from core.audio.clip import load_clip
    from core.audio.provenance import read_sidecar
    from core.cli.main import main

    out = tmp_path / "rain.wav"
    code = main(["generate", "rain on a tin roof", "--model", str(tiny_48k_model), "-o", str(out), "--seconds", "1.5",
                 "--steps", "2", "--seed", "3", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0, err
    clip = load_clip(out)
    assert (clip.sample_rate, clip.channels, clip.frames) == (48_000, 1, 72_000)
    sidecar = read_sidecar(out)
    assert sidecar["seed"] == 3 and sidecar["settings"]["scored_by"] == scorer.UNRANKED
    assert "not ranked" in err and "loa models download cvssp/audioldm2" in err


def test_the_compiled_unet_serves_the_48k_kind(tiny_48k_model, monkeypatch):
    """The fast path on the FiLM kind: the load-time warm-up encodes this kind's prompt and compiles the UNet for
    its bucket (class_labels, no encoder states); a take of that bucket then runs compiled and matches eager."""
    from core.generation import compiled

    monkeypatch.setenv(compiled.BACKEND_ENV, "eager")
    fast = Engine(tiny_48k_model, device="cpu", precision="bf16", compile="on", background_compile=False)
    pipe = fast.load()
    stage = fast.fast.stages["unet"]
    compiled.warm_up(pipe, stage, seconds=2.56)()
    assert len(stage.ready) == 1 and stage.broken is None
    take = fast.generate(GenerationRequest("wind howling through trees", seconds=2.0, steps=2, seed=4))
    assert stage.calls == {"compiled": 2, "eager": 0} and len(stage.ready) == 1  # the warm-up's graph
    assert take.best.clip.frames == 96_000 and take.best.clip.sample_rate == 48_000
    assert take.notes == [scorer.NO_SCORER_NOTE]  # no speed note: 2 s runs in the 2.56 s bucket
    eager = Engine(tiny_48k_model, device="cpu", precision="bf16", compile="off")
    eager.load().unet.to(memory_format=torch.channels_last)  # as a compiling engine keeps it: the same bf16 kernels
    same = eager.generate(GenerationRequest("wind howling through trees", seconds=2.56, steps=2, seed=4))
    same = same.best.clip.samples[:96_000]
    rel = np.linalg.norm(take.best.clip.samples - same) / np.linalg.norm(same)
    print("relative L2 compiled vs eager (bf16)", rel)
    assert rel < 1e-3


def test_diffusers_plain_unet_layout_runs_too(tmp_path):
    """A converter may also write diffusers' UNet2DConditionModel (one transformer per site, as diffusers' 16 kHz
    AudioLDM conversion does): the engine feeds it the same way."""
    from tiny_audioldm48k import build_tiny_plain_48k_pipeline

    folder = build_tiny_plain_48k_pipeline(tmp_path / "plain")
    engine = Engine(folder, device="cpu", precision="fp32")
    result = engine.generate(GenerationRequest("a dog barking in the distance", seconds=0.5, steps=2, seed=1))
    assert type(engine.pipeline.unet).__name__ == "UNet2DConditionModel"
    assert result.best.clip.frames == 24_000 and np.isfinite(result.best.clip.samples).all()


@pytest.mark.parametrize("seconds", [2.005, 2.565, 0.455])
def test_a_length_between_mel_frames_is_not_cut_short(engine48, tiny_engine, seconds):
    # 2.005 s is 200.5 mel frames: rounding the frames down rendered 200 (a whole number of latent rows at both
    # rates), so the take came out 2.000 s long although 2.005 s was asked for and recorded
    for engine in (engine48, tiny_engine):
        take = engine.generate(GenerationRequest("rain", seconds=seconds, steps=1, seed=1)).best.clip
        assert take.frames == round(seconds * take.sample_rate), (engine.sample_rate, take.frames)
    assert sampling.latent_rows_for(engine48.pipeline, 10.24) == 1024  # a compiled bucket: not one row more
    assert sampling.latent_rows_for(tiny_engine.pipeline, 10.24) == 1024
