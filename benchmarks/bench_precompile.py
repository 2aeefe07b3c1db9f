"""What a compiled UNet graph costs a process at start, and how long the app's interpreter is held meanwhile, as JSON.

    python -m benchmarks.bench_precompile [--shapes audioldm2] [--out FILE] [--modes precompile in_process]

The full-size UNet of `--shapes` (official config, seeded random weights) is saved to a temporary folder, so it
loads as a user's model does (the child compiler loads it from there). Then, each in a fresh process and a fresh
inductor cache per mode: a first start and a second start, with the graph built by a child process and loaded
from its file (`precompile`, the default) and compiled in the process itself (`in_process`, LOA_PRECOMPILE=off,
where a second start reads inductor's disk cache). Per start: seconds until the first compiled step has run
(`ready_s`, the step included), the longest delay of a Python thread that sleeps 10 ms at a time meanwhile
(`longest_python_thread_delay_s`: what a GUI thread would feel), and three compiled steps after it (and the longest
such delay during them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # tiny_pipeline's offline tokenizers, for random_pipeline

from benchmarks.json_report import print_and_save  # noqa: E402


def one_start(folder: str, inputs: str) -> dict:
    """In this (fresh) process: load the UNet as the fast path casts it, and time its first compiled step."""
    import threading

    import torch
    from diffusers.pipelines.audioldm2 import AudioLDM2UNet2DConditionModel

    from core.generation import cpu_attention, precision
    from core.generation.compiled import CompiledStage

    unet = AudioLDM2UNet2DConditionModel.from_pretrained(folder).eval().to(torch.bfloat16)
    unet.forward = precision.cast_call(unet.forward, torch.bfloat16)
    cpu_attention.install(unet)  # as precision.apply does (on a CPU the kernel serves)
    unet.to(memory_format=torch.channels_last)
    args, kwargs = torch.load(inputs)
    stage = CompiledStage("unet", unet, "forward", torch.bfloat16, torch.device("cpu"), background=False,
                          foreground_always=True, model_tag="bench-precompile", lengths=(2, {args[0].shape[2]}))
    longest, running = [0.0], [True]

    def sleeper() -> None:
        last = time.perf_counter()
        while running[0]:
            time.sleep(0.01)
            now = time.perf_counter()
            longest[0], last = max(longest[0], now - last - 0.01), now

    watcher = threading.Thread(target=sleeper, daemon=True)
    watcher.start()
    started = time.perf_counter()
    with torch.inference_mode():
        stage(*args, **kwargs)
        ready = time.perf_counter() - started
        until_ready, longest[0] = longest[0], 0.0
        steps = []
        for _ in range(3):
            t = time.perf_counter()
            stage(*args, **kwargs)
            steps.append(round(time.perf_counter() - t, 2))
        running[0] = False
        watcher.join()
    return {"ready_s": round(ready, 1), "longest_python_thread_delay_s": round(until_ready, 2),
            "compiled_steps_s": steps, "longest_python_thread_delay_in_steps_s": round(longest[0], 2),
            "calls": dict(stage.calls), "failed": stage.broken, "cpu_attention": cpu_attention.installed(unet)}


def prepare(shapes: str, folder: Path) -> str:
    """The UNet saved in its official layout, and one guided call's inputs for the 10.24 s bucket."""
    import torch

    from benchmarks.bench_generate import random_pipeline
    from core.generation import encoding, sampling
    from core.generation.compiled import _pad_tokens
    from core.models.kinds import pipe_kind

    pipe = random_pipeline(shapes, torch.device("cpu"), torch.float32)
    pipe.unet.save_pretrained(folder / "unet")
    with torch.inference_mode():
        kind = pipe_kind(pipe)
        cond = encoding.conditioning(encoding.encode_values(pipe, kind, "warm up", pipe.device, 1, True), kind, True)
        noise = sampling.initial_noise(pipe, [0], sampling.latent_rows_for(pipe, 10.24), pipe.device, torch.float32)
        inputs = ((torch.cat([noise] * 2), torch.tensor(999)), _pad_tokens(cond.unet_kwargs()))
    torch.save(inputs, folder / "inputs.pt")
    return str(folder / "inputs.pt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default="audioldm2")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--modes", nargs="+", choices=("precompile", "in_process"), default=["precompile", "in_process"])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)  # FOLDER INPUTS: one start, in this process
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_start(*args.child)))
        return
    result = {"shapes": args.shapes, "cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        inputs = prepare(args.shapes, tmp_path)
        for mode in args.modes:
            env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / f"cache-{mode}"),
                   "LOA_PRECOMPILE": "on" if mode == "precompile" else "off"}
            for start in ("first_start", "second_start"):
                done = subprocess.run([sys.executable, "-m", "benchmarks.bench_precompile", "--child",
                                       str(tmp_path / "unet"), inputs], cwd=str(REPO), env=env,
                                      capture_output=True, text=True, check=True)
                result[f"{mode}_{start}"] = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_average_at_end"] = os.getloadavg()
    print_and_save(result, args.out)


if __name__ == "__main__":
    main()
