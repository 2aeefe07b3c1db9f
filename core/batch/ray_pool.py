"""Ray mode: one actor per GPU (or per `cpus_per_worker` CPU slot), each holding its engines loaded once. Units
are streamed one per idle actor; the driver writes every result (core.batch.runner.BatchWriter), so a file lands
exactly once wherever it was rendered. An actor that dies has its unit put back and rendered by another.

On a multi-machine cluster every node needs LOA Studio installed and the model available at the same id or path
(e.g. `loa models download` on each node, or a shared folder); the outputs are written only by the driver.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from pathlib import Path
from typing import Callable, Optional

from core.errors import InputError, LoaError
from core.wording import counted

INSTALL_HINT = "Ray mode needs the cluster extra: pip install 'loa-studio[cluster]' (or pip install 'ray[default]')"


def import_ray():
    try:
        import ray
    except ImportError:
        raise InputError(f"{INSTALL_HINT}; or leave out --ray to render on this machine.") from None
    return ray


def check_address(address: str) -> None:
    """Fail fast (exit 2) when nothing listens at a cluster ADDRESS: Ray itself would retry for minutes."""
    if address == "auto":
        return
    import socket

    host, _, port = address.split("://", 1)[-1].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=5):
            pass
    except (OSError, ValueError):
        raise InputError(f"no Ray cluster answers at {address}; start one with `ray start --head` and pass the "
                         "HOST:PORT it prints (default port 6379), or use --ray auto for a local instance.") from None


def project_root() -> str:
    """The folder that holds the `core` package, so local Ray workers import the same code as the driver."""
    return str(Path(__file__).resolve().parents[2])


def start_local_ray(num_cpus: Optional[int] = None):
    """Start a private local Ray instance for this process (never one started by `ray start`), unless one is up."""
    ray = import_ray()
    if not ray.is_initialized():
        path = os.pathsep.join(p for p in (project_root(), os.environ.get("PYTHONPATH", "")) if p)
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False,
                 runtime_env={"env_vars": {"PYTHONPATH": path, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "0"),
                                               **_fast_path_env()}})
    return ray


def _fast_path_env() -> dict:
    """The precision, compile and low-VRAM choices (LOA_PRECISION, LOA_COMPILE, LOA_LOW_VRAM) for the workers,
    when set here."""
    return {k: os.environ[k] for k in ("LOA_PRECISION", "LOA_COMPILE", "LOA_COMPILE_BACKEND", "LOA_LOW_VRAM")
            if os.environ.get(k)}


class BatchWorker:
    """The actor body: the engine cache for the worker's device; `render` returns picklable takes."""

    def __init__(self, device: str, threads: int) -> None:
        import torch

        from core.generation.engine_cache import EngineCache

        torch.set_num_threads(max(1, threads))
        self.pool = EngineCache(device)

    def pid(self) -> int:
        return os.getpid()

    def render(self, row, seeds):
        from .render import render_unit

        return render_unit(self.pool, row, seeds)


def run_on_ray(plan, writer, stop, address: str, device: str = "auto", cpus_per_worker: int = 1,
               on_workers: Optional[Callable[[list[int]], None]] = None) -> None:
    ray = import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        if address == "auto":
            start_local_ray()
        else:
            try:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise InputError(f"cannot join the Ray cluster at {address} ({str(exc).splitlines()[0]}); a cluster "
                                 "with token authentication (Ray >= 2.59 turns it on) needs RAY_AUTH_MODE=token and "
                                 "its token here too (see `ray get-auth-token`).") from None
    try:
        _stream(ray, plan, writer, stop, device, cpus_per_worker, on_workers)
    finally:
        if started_here:
            ray.shutdown()


def _stream(ray, plan, writer, stop, device, cpus_per_worker, on_workers) -> None:
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    if gpus and device in ("auto", "cuda"):
        count, options, worker_device, threads = gpus, {"num_gpus": 1, "num_cpus": 1}, "cuda", 1
    else:
        count = max(1, int(resources.get("CPU", 1) // cpus_per_worker))
        options, threads = {"num_cpus": cpus_per_worker}, cpus_per_worker
        worker_device = "cpu" if device in ("auto", "cuda") else device
    actor_class = ray.remote(max_restarts=0, **options)(BatchWorker)
    actors = [actor_class.remote(worker_device, threads) for _ in range(count)]
    if on_workers is not None:
        on_workers(ray.get([a.pid.remote() for a in actors]))
    queue, in_flight, idle = deque(plan.units), {}, list(actors)
    while queue or in_flight:
        while idle and queue and not stop():
            actor, unit = idle.pop(), queue.popleft()
            in_flight[actor.render.remote(unit.row, unit.seeds)] = (actor, unit)
        if not in_flight:
            break
        ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=0.5)
        for ref in ready:
            actor, unit = in_flight.pop(ref)
            try:
                takes = ray.get(ref)
            except ray.exceptions.RayActorError:
                actors.remove(actor)
                queue.appendleft(unit)  # rendered again by another actor; nothing of it was written
                files = counted(len(unit.seeds), "file")
                print(f"loa: note: a Ray worker died; its {files} {'goes' if len(unit.seeds) == 1 else 'go'} to "
                      f"another worker ({len(actors)} left).", file=sys.stderr)
                continue
            except ray.exceptions.RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, LoaError):
                    raise cause from None
                raise
            idle.append(actor)
            writer.write(unit, takes)
        if not actors and queue:
            raise LoaError("every Ray worker died; the files written so far are kept, rerun to resume.")
    writer.stats.stopped = bool(queue)
