"""Low-VRAM mode (model CPU offload, core.generation.low_vram): the decision per device, its switches, and the
offload hooks firing under our own denoising loop (driven on the CPU: accelerate's hooks run the same code with
the CPU as the execution device; only the copies to a GPU are missing)."""

from __future__ import annotations

import numpy as np
import torch

from core.cli.main import main
from core.generation import low_vram
from core.generation.engine import Engine
from core.generation.fast_path import FastPath
from core.generation.latents import encode_wave
from core.generation.requests import GenerationRequest


def test_low_vram_is_taken_on_cuda_only_and_says_why_not_elsewhere():
    assert low_vram.decide(False, "cuda") == low_vram.Decision(False, None)
    assert low_vram.decide(True, "cuda", has_accelerate=True) == low_vram.Decision(True, None)
    missing = low_vram.decide(True, "cuda", has_accelerate=False)
    assert not missing.enabled and "pip install accelerate" in missing.note
    for kind in ("cpu", "mps"):
        decision = low_vram.decide(True, kind)
        assert not decision.enabled and decision.note.startswith(f"low-VRAM mode is for CUDA GPUs; ignored on {kind}")
        assert "\n" not in decision.note
    assert low_vram.accelerate_available()  # installed with the app (diffusers' offload needs it)


def test_on_cuda_the_pipeline_loads_in_system_memory_and_nothing_compiles(monkeypatch):
    cuda = FastPath(torch.device("cuda"), "auto", "auto", low_vram_mode=True)
    assert cuda.offload.enabled and not cuda.active and cuda.load_device == torch.device("cpu")
    plain = FastPath(torch.device("cuda"), "auto", "auto")
    assert not plain.offload.enabled and plain.active and plain.load_device == torch.device("cuda")
    monkeypatch.setenv(low_vram.ENV, "1")  # the window's menu and `loa batch --low-vram` set the default
    assert FastPath(torch.device("cuda")).offload.enabled
    cpu = FastPath(torch.device("cpu"))
    assert not cpu.offload.enabled and cpu.load_device == torch.device("cpu") and "ignored on cpu" in cpu.offload.note
    assert low_vram.peak_vram(torch.device("cpu")) == {"peak_vram": "absent: no GPU memory on cpu"}


def test_on_a_cpu_low_vram_is_a_no_op_with_a_note(tiny_model_dir, tmp_path, capsys):
    engine = Engine(tiny_model_dir, device="cpu", precision="fp32", low_vram=True)
    result = engine.generate(GenerationRequest("rain", seconds=1.0, steps=2, seed=1))
    assert not low_vram.offloaded(engine.pipeline)
    assert [n for n in result.notes if "low-VRAM" in n] == [low_vram.decide(True, "cpu").note]
    out = tmp_path / "take.wav"
    code = main(["generate", "rain", "--model", str(tiny_model_dir), "--device", "cpu", "--seconds", "1",
                 "--steps", "1", "--seed", "1", "--low-vram", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0 and out.exists(), err
    assert "low-VRAM mode is for CUDA GPUs; ignored on cpu" in err


def test_offload_hooks_move_every_model_under_our_own_loop(tiny_model_dir):
    """Our loop calls pipe.unet directly, decodes with vae.decode and scores with CLAP's forward: each goes
    through its offload hook (which moves the model to the execution device and the previous one back)."""
    reference = Engine(tiny_model_dir, device="cpu", precision="fp32")
    request = GenerationRequest("rain on a tin roof", seconds=1.0, steps=2, seed=4)
    expected = reference.generate(request).best.clip.samples
    engine = Engine(tiny_model_dir, device="cpu", precision="fp32")
    pipe = engine.pipeline
    low_vram.enable(pipe, torch.device("cpu"))
    assert low_vram.offloaded(pipe)
    names = {id(m): n for n, m in [("clap_text", pipe.text_encoder.text_model),
                                   ("clap_projection", pipe.text_encoder.text_projection),
                                   ("t5", pipe.text_encoder_2), ("projection", pipe.projection_model),
                                   ("gpt2", pipe.language_model), ("unet", pipe.unet), ("vae", pipe.vae),
                                   ("vocoder", pipe.vocoder), ("clap", pipe.text_encoder)]}
    calls = []
    for key, module in [(k, m) for m in pipe.components.values() if isinstance(m, torch.nn.Module)
                        for k in [id(m)]] + [(id(pipe.text_encoder.text_model), pipe.text_encoder.text_model),
                                             (id(pipe.text_encoder.text_projection),
                                              pipe.text_encoder.text_projection)]:
        hook = module._hf_hook
        original = hook.pre_forward

        def spy(mod, *args, _original=original, _name=names[key], **kwargs):
            calls.append(_name)
            return _original(mod, *args, **kwargs)

        hook.pre_forward = spy
    result = engine.generate(request)
    np.testing.assert_allclose(result.best.clip.samples, expected, atol=1e-6)  # offloading changes no number
    order = [c for i, c in enumerate(calls) if i == 0 or calls[i - 1] != c]
    assert calls.count("unet") == 2  # each denoising step's call (guidance batched in one)
    after_loop = order[order.index("unet"):]
    assert after_loop[:4] == ["unet", "vae", "vocoder", "clap"], order  # CLAP scoring: its own forward
    assert set(after_loop[4:]) <= {"clap_text", "clap_projection"}, order  # (its parts, hooked inside it)
    assert "clap_text" in order and "t5" in order and "gpt2" in order
    calls.clear()
    encode_wave(pipe, np.zeros(16000, dtype=np.float32))  # in-context audio: the VAE's encode is hooked too
    assert calls == ["vae"]
    assert low_vram.execution_device(pipe.vae) == torch.device("cpu")
