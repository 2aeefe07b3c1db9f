"""Compiled stages per duration bucket: torch.compile (inductor) of the UNet step, and on CUDA of the VAE decoder
and vocoder too, for static shapes.

A plain generation whose length falls in a bucket (BUCKETS, at most MAX_PADDING of it unused) runs at the
bucket's length and is cut to the length asked for, so a handful of shapes serves every such request; other
lengths, and the in-context operations (their length is the user's clip), run eager and a note says so. The
same bucket rule holds whether or not the compiled graph is ready yet, so a seed gives the same take either way.

Each stage call is keyed by its input shapes; a key runs eager until its compiled graph is ready. With
`background` (the window, `loa batch`, the core API's default) a key's first call starts its compile on a
background thread and later calls pick it up; without (a one-shot `loa` command) a key compiles in the foreground
only when an earlier process compiled it (its artefacts are in inductor's on-disk cache, under the app's cache
folder), else it runs eager. LOA_COMPILE=on|off|auto overrides the policy (tests set off; `on` compiles in the
foreground regardless); a compile that fails (no C++ compiler, an unsupported op) leaves that stage eager.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

import torch

from core import gc_policy
from core.generation import cpu_attention, cpu_kernels, precompile
from core.generation import precision as precision_mod
from core.generation.precision import StagePrecision

log = logging.getLogger(__name__)

BUCKETS = (2.56, 5.12, 10.24, 20.48, 30.72)  # seconds
MAX_PADDING = 0.25  # the most of a bucket a request may leave unused (10 s -> 10.24 s; 3 s runs eager)
TOKEN_STEP = 32  # prompt embeddings pad to a multiple of this many tokens (masked), so most prompts share a graph
MAX_VARIANTS = 4  # compiled graphs per stage and process (each holds prepacked weights); more shapes run eager
COMPILE_MODES = ("auto", "on", "off")
ENV = "LOA_COMPILE"
BACKEND_ENV = "LOA_COMPILE_BACKEND"  # inductor by default; tests use aot_eager to exercise the path quickly
PRECOMPILE_ENV = "LOA_PRECOMPILE"  # off: CPU graphs compile in this process, as before the child process


def bucket_for(seconds: float) -> Optional[float]:
    """The bucket a request of `seconds` runs in, or None (longer than the last, or too far below its bucket)."""
    for bucket in BUCKETS:
        if seconds <= bucket + 1e-9:
            return bucket if (bucket - seconds) / bucket <= MAX_PADDING + 1e-9 else None
    return None


def compile_mode(requested: Optional[str] = None) -> str:
    mode = requested or os.environ.get(ENV, "").strip().lower() or "auto"
    return mode if mode in COMPILE_MODES else "auto"


def compile_wanted(mode: str, device: torch.device, plan: StagePrecision) -> bool:
    """Whether stages compile: `on`/`off` as said; `auto` on CUDA, and on a CPU running the UNet in bf16 (where
    compiling was measured to pay: ~2x per step; fp32 CPU graphs were slower than eager)."""
    if mode != "auto":
        return mode == "on"
    return device.type == "cuda" or (device.type == "cpu" and plan.unet == torch.bfloat16)


def stages_for(device: torch.device) -> tuple[str, ...]:
    """CPU: the UNet only (inductor's VAE and vocoder graphs were slower than eager there); CUDA: all three."""
    return ("unet", "vae", "vocoder") if device.type == "cuda" else ("unet",)


def use_disk_cache() -> str:
    """Inductor's on-disk cache under the app's cache folder: TORCHINDUCTOR_CACHE_DIR, unless the user set it.
    (Inductor writes its default, a temp folder, into the variable the first time it looks, so that value
    counts as unset: a temp folder may not outlive a reboot.)"""
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir

    from core.paths import cache_dir

    current = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if not current or os.path.abspath(current) == os.path.abspath(default_cache_dir()):
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(cache_dir() / "inductor")
    return os.environ["TORCHINDUCTOR_CACHE_DIR"]


class _Plain(torch.nn.Module):
    """The stage's class method on the module, bypassing instance wrappers (precision casts, this module's)."""

    def __init__(self, module: torch.nn.Module, method: str) -> None:
        super().__init__()
        self.module, self.method = module, method

    def forward(self, *args, **kwargs):
        return getattr(type(self.module), self.method)(self.module, *args, **kwargs)


def _pad_tokens(kwargs: dict) -> dict:
    """The UNet's T5 embeddings and mask padded to a multiple of TOKEN_STEP (masked tokens: same result)."""
    states, mask = kwargs.get("encoder_hidden_states_1"), kwargs.get("encoder_attention_mask_1")
    if states is None or mask is None:
        return kwargs
    n = states.shape[1]
    extra = math.ceil(n / TOKEN_STEP) * TOKEN_STEP - n
    if extra == 0:
        return kwargs
    states = torch.cat([states, states.new_zeros(states.shape[0], extra, states.shape[2])], dim=1)
    mask = torch.cat([mask, mask.new_zeros(mask.shape[0], extra)], dim=1)
    return {**kwargs, "encoder_hidden_states_1": states, "encoder_attention_mask_1": mask}


def _cloned(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        return out.clone()
    if isinstance(out, tuple):
        return tuple(_cloned(o) for o in out)
    if hasattr(out, "keys"):  # diffusers output dataclass
        for key in list(out.keys()):
            out[key] = _cloned(out[key])
            setattr(out, key, out[key])
    return out


def _finite(out: Any) -> bool:
    sample = out[0] if isinstance(out, tuple) else getattr(out, "sample", out)
    return not isinstance(sample, torch.Tensor) or bool(torch.isfinite(sample).all())


def _signature(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return (tuple(value.shape), str(value.dtype))
    if isinstance(value, (tuple, list)):
        return tuple(_signature(v) for v in value)
    return value if isinstance(value, (int, float, bool, str, type(None))) else type(value).__name__


class CompiledStage:
    """Installed as a stage's call (unet.forward, vae.decode, vocoder.forward): compiled per input-shape key once
    ready, eager (the call it replaced) until then."""

    def __init__(self, name: str, module: torch.nn.Module, method: str, dtype: torch.dtype, device: torch.device,
                 background: bool, foreground_always: bool, model_tag: str, lengths: tuple[int, set]) -> None:
        self.name, self.module, self.dtype, self.device = name, module, dtype, device
        self.length_dim, self.lengths = lengths  # the input's time axis, and its sizes at the buckets' lengths
        self.eager = getattr(module, method)
        self.background, self.foreground_always, self.model_tag = background, foreground_always, model_tag
        self.pad = _pad_tokens if name == "unet" else (lambda kw: kw)
        self.method = method
        self.compiled: Optional[Callable] = None  # built at the first compile (a bad backend fails there)
        self.saved: dict[Any, Callable] = {}  # key -> graph compiled by a child process and loaded from disk
        self.ready: set = set()
        self.failed: set = set()
        self.compile_seconds: dict = {}
        self.pending: dict[Any, threading.Thread] = {}
        self._lock = threading.Lock()
        self.broken: Optional[str] = None  # why this stage stays eager for good
        self.calls = {"compiled": 0, "eager": 0}  # how this stage's calls ran (tests, benchmark)
        setattr(module, method, self)

    def key(self, args: tuple, kwargs: dict) -> Any:
        return _signature(args) + tuple(sorted((k, _signature(v)) for k, v in kwargs.items()))

    def __call__(self, *args, **kwargs):
        kwargs = self.pad(kwargs)
        key = self.key(args, kwargs)
        if not (args and isinstance(args[0], torch.Tensor) and args[0].dim() > self.length_dim
                and args[0].shape[self.length_dim] in self.lengths):
            self.calls["eager"] += 1
            return self.eager(*args, **kwargs)  # not a bucket's length (in-context work): never compiled
        if key not in self.ready and self.broken is None and key not in self.failed:
            self._want(key, args, kwargs)
        if key in self.ready:
            try:
                out = self._run_compiled(args, kwargs, key)
            except precompile.GuardMismatch as exc:  # a saved graph's layout assumption did not hold: eager
                log.warning("the compiled %s does not fit this call (%s); it runs eager", self.name, exc)
                with self._lock:
                    self.ready.discard(key)
                    self.failed.add(key)
                self.calls["eager"] += 1
                return self.eager(*args, **kwargs)
            if self.name != "vae" or _finite(out):
                self.calls["compiled"] += 1
                return out
            # fp16 overflowed in the graph: the eager call (with its fp32 fallback) from now on
            self.broken = "the compiled decode overflowed; eager with the fp32 fallback from now on"
        self.calls["eager"] += 1
        return self.eager(*args, **kwargs)

    def _run_compiled(self, args, kwargs, key=None):
        out = self.saved.get(key, self.compiled)(*args, **kwargs)
        return _cloned(out) if self.device.type == "cuda" else out  # CUDA graphs reuse their output buffers

    def _want(self, key, args, kwargs) -> None:
        with self._lock:
            if key in self.pending or len(self.ready) + len(self.pending) >= MAX_VARIANTS:
                return
        if self.foreground_always or (not self.background and self.cached_on_disk(key)):
            self.compile(key, args, kwargs)
        elif self.background:
            self.compile_in_background(key, args, kwargs)

    def compile_in_background(self, key, args, kwargs) -> Optional[threading.Thread]:
        with self._lock:
            if key in self.pending or key in self.ready:
                return self.pending.get(key)
            copies = (tuple(a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args),
                      {k: v.detach().clone() if isinstance(v, torch.Tensor) else v for k, v in kwargs.items()})
            thread = threading.Thread(target=self.compile, args=(key, *copies), daemon=True,
                                      name=f"loa-compile-{self.name}")
            self.pending[key] = thread
        thread.start()
        return thread

    def compile(self, key, args, kwargs) -> bool:
        """Compile (or load from the disk cache) the graph for `key` by running it once; True when ready."""
        use_disk_cache()
        cpu_kernels.release_interpreter_in_kernels()  # before any kernel is built or loaded
        import torch._dynamo.config as dynamo_config

        # Every engine (a reload, a precision change) compiles the same code object again: room for them all.
        dynamo_config.recompile_limit = max(dynamo_config.recompile_limit, 64)
        # Dynamo's own collection after each traced frame walked the compile's young objects for 1.1-1.2 s with the
        # interpreter held: the window froze that long (benchmarks/bench_gui_pause.py). Our policy handles them.
        dynamo_config.run_gc_after_compile = False
        if self.device.type == "cpu":
            import torch._inductor.config as inductor_config

            # No weight freezing: inductor's disk cache skips graphs with frozen (prepacked oneDNN) weights, so
            # every process paid the whole compile again (166 s at full size), and freezing bought no speed here
            # (full-size bf16 UNet, 20 steps: 39.1-39.8 s per take without, 39.7 s with; docs/developers.md).
            inductor_config.freezing = False
        started = time.perf_counter()
        folder = self._precompile_folder()
        try:
            if folder is not None:
                self._load_precompiled(key, args, kwargs, folder)
            elif self.compiled is None:
                backend = os.environ.get(BACKEND_ENV, "inductor")
                options = {"mode": "reduce-overhead"} if self.device.type == "cuda" and backend == "inductor" else {}
                self.compiled = precision_mod.cast_call(torch.compile(_Plain(self.module, self.method),
                                                                      dynamic=False, backend=backend, **options),
                                                        self.dtype)
            # Like a model load (core.gc_policy): tracing allocates hundreds of thousands of objects, and the
            # window's GUI-thread collector walked them in passes of 0.1-1.2 s; what survives is frozen after.
            with gc_policy.loading(), torch.inference_mode():
                self._run_compiled(args, kwargs, key)
        except Exception as exc:  # noqa: BLE001 - any compiler failure leaves the stage eager, never the job
            log.warning("compiling the %s failed (%s); it runs eager", self.name, exc)
            with self._lock:
                self.failed.add(key)
                self.pending.pop(key, None)
                self.broken = f"compiling failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            return False
        with self._lock:
            self.compile_seconds[key] = round(time.perf_counter() - started, 2)
            self.ready.add(key)
            self.pending.pop(key, None)
        self._mark_on_disk(key)
        return True

    def _precompile_folder(self) -> Optional[str]:
        """Where a child process can load this stage from to compile it (core.generation.precompile): the CPU's
        inductor graphs of a module loaded from a folder; None means compile in this process."""
        if self.device.type != "cpu" or self.method != "forward" or os.environ.get(BACKEND_ENV, "inductor") != \
                "inductor" or os.environ.get(PRECOMPILE_ENV, "on") == "off" or not precompile.available():
            return None
        return precompile.source_folder(self.module)

    def _load_precompiled(self, key, args, kwargs, folder: str) -> None:
        path = self._artifact(key)
        with precompile.compiling_lock(path):  # processes wanting the same graph (batch workers) compile it once
            if not path.exists():
                precompile.compile_in_child(self.module, self.dtype, _channels_last(self.module),
                                            cpu_attention.installed(self.module),
                                            *self._stage_inputs(args, kwargs), path, folder)
        try:
            self.saved[key] = precision_mod.cast_call(precompile.load(path, self.module), self.dtype)
        except Exception:
            path.unlink(missing_ok=True)  # a file that does not load is built again at the next start
            raise

    def _stage_inputs(self, args, kwargs) -> tuple[tuple, dict]:
        """The inputs as the stage's graph sees them: floating tensors in the stage's dtype (precision.cast_call)."""
        return precision_mod._cast(tuple(args), self.dtype), {k: precision_mod._cast(v, self.dtype)
                                                               for k, v in kwargs.items()}

    def _artifact(self, key) -> Path:
        digest = hashlib.sha1(repr((torch.__version__, sys.version_info[:2], self.model_tag, self.name, key,
                                    str(self.dtype), _channels_last(self.module), self._kernels())).encode()
                              ).hexdigest()[:20]
        return Path(use_disk_cache()) / "loa-precompiled" / f"{self.name}-{digest}.bin"

    def _kernels(self) -> Optional[str]:
        """Our own kernels inside the stage's graph (part of its cache keys: graphs with and without differ)."""
        return cpu_attention.TAG if cpu_attention.installed(self.module) else None

    def wait(self, timeout: Optional[float] = None) -> None:
        """Block until the background compiles running now finish (benchmarks, tests)."""
        for thread in list(self.pending.values()):
            thread.join(timeout)

    # ---- "compiled before on this machine" markers beside inductor's cache ---------------------------------
    def _marker(self, key) -> str:
        digest = hashlib.sha1(repr((torch.__version__, self.model_tag, self.name, key,
                                    os.environ.get(BACKEND_ENV, "inductor"), self._kernels())).encode()).hexdigest()[:20]
        return os.path.join(use_disk_cache(), "loa-compiled", digest)

    def cached_on_disk(self, key) -> bool:
        if self._precompile_folder() is not None:
            return self._artifact(key).exists()
        return os.path.exists(self._marker(key))

    def _mark_on_disk(self, key) -> None:
        path = self._marker(key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(f"{self.name} {key}\n")
        except OSError:
            pass


def _channels_last(module: torch.nn.Module) -> bool:
    """Whether the module's convolution weights are in channels-last layout (the CPU UNet, fast_path)."""
    weight = next((p for p in module.parameters() if p.dim() == 4 and p.shape[1] > 1 and p.shape[2] * p.shape[3] > 1),
                  None)
    return weight is not None and not weight.is_contiguous() and \
        weight.is_contiguous(memory_format=torch.channels_last)


def model_tag(pipe) -> str:
    """What identifies a stage's graph across processes: its class and config (weights are inputs to the cache
    key inside inductor, not here)."""
    return repr((type(pipe.unet).__name__, dict(pipe.unet.config), dict(pipe.vae.config)))


STAGE_METHODS = {"unet": ("unet", "forward"), "vae": ("vae", "decode"), "vocoder": ("vocoder", "forward")}


def install(pipe, plan: StagePrecision, device: torch.device, background: bool, foreground_always: bool,
            stages: tuple[str, ...]) -> dict[str, CompiledStage]:
    from core.generation.sampling import latent_rows_for

    tag = model_tag(pipe)
    dtypes = {"unet": plan.unet, "vae": plan.vae, "vocoder": plan.vocoder}
    frames = {latent_rows_for(pipe, b) for b in BUCKETS}
    rows = {f // pipe.vae_scale_factor for f in frames}
    lengths = {"unet": (2, rows), "vae": (2, rows), "vocoder": (1, frames)}  # vocoder input: (batch, frames, mels)
    out = {}
    for name in stages:
        attr, method = STAGE_METHODS[name]
        out[name] = CompiledStage(name, getattr(pipe, attr), method, dtypes[name], device, background,
                                  foreground_always, tag, lengths[name])
    return out


def warm_up(pipe, stage: CompiledStage, seconds: float = 10.24, candidates: int = 1) -> Callable[[], None]:
    """A function compiling the UNet graph of `seconds` (its bucket) for a short guided prompt: what the window
    runs on a background thread at model load, so the first takes of that length need no compile."""
    from core.generation import encoding, sampling
    from core.models.kinds import pipe_kind

    def run() -> None:
        with torch.inference_mode():
            kind = pipe_kind(pipe)
            cond = encoding.conditioning(encoding.encode_values(pipe, kind, "warm up", pipe.device, candidates, True),
                                         kind, True)
            frames = sampling.latent_rows_for(pipe, bucket_for(seconds) or seconds)
            noise = sampling.initial_noise(pipe, list(range(candidates)), frames, pipe.device,
                                           cond.prompt_embeds.dtype)
            kwargs = _pad_tokens(cond.unet_kwargs())
            args = (torch.cat([noise] * 2), torch.tensor(999, device=pipe.device))
            key = stage.key(args, kwargs)
            with stage._lock:
                if key in stage.ready or key in stage.pending:
                    return
                stage.pending[key] = threading.current_thread()
            stage.compile(key, args, kwargs)

    return run
