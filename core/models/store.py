"""Finding, checking and downloading AudioLDM 2 model folders.

A model is named either by a hub id (resolved through the Hugging Face cache,
so HF_HOME and HF_HUB_OFFLINE apply) or by a local folder in the diffusers layout.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from core.errors import InputError, ModelNotAvailable, first_line
from core.models.catalog import CATALOG, ModelInfo, describe_download
from core.models.configs import config_problem
from core.models.geometry import geometry_problem
from core.models.hub_checks import check_hub_cache, check_model_id
from core.models.imported import (
    download_original,
    is_original_checkpoint,
    resolve_catalog_original,
    resolve_checkpoint_file,
)
from core.models.integrity import DAMAGED_HINT, index_problem, weight_problem
from core.models.kinds import PIPELINE_CLASSES, index_kind

MODEL_INDEX = "model_index.json"
PIPELINE_CLASS = "AudioLDM2Pipeline"
WEIGHT_SUFFIXES = (".safetensors", ".bin")
# What each kind of component folder must hold besides weights.
COMPONENT_FILES = {
    "scheduler": ("scheduler_config.json",),
    "feature_extractor": ("preprocessor_config.json",),
    "tokenizer": ("tokenizer_config.json",),
    "tokenizer_2": ("tokenizer_config.json",),
}


@dataclass(frozen=True)
class ResolvedModel:
    """A model folder ready to load, with the id it was asked for (a hub id or the folder path)."""

    id: str
    folder: Path

    @property
    def licence(self) -> str:
        info = CATALOG.get(self.id)
        if info is not None:
            return info.licence
        card = read_card_licence(self.folder)
        return card or "unknown (see the model card)"


def resolve_model(spec: str) -> ResolvedModel:
    """Return a checked model folder for a hub id or a local folder; raise ModelNotAvailable otherwise."""
    spec = str(spec)
    if not spec.strip():
        raise InputError(f"--model is empty: give a catalog id ({', '.join(CATALOG)}) or a model folder.")
    info = CATALOG.get(spec)
    if info is not None and info.is_original_format:
        return ResolvedModel(id=spec, folder=_checked_converted(resolve_catalog_original(info)))
    path = Path(spec).expanduser()
    if path.is_file() and is_original_checkpoint(path):
        return ResolvedModel(id=str(path.resolve()), folder=_checked_converted(resolve_checkpoint_file(path)))
    if is_original_checkpoint(path) and not path.exists():  # a mistyped path, not a model that is missing
        raise InputError(f"No such checkpoint file: {spec}. Check the path (an original-format AudioLDM .pth).")
    if path.exists() or spec.startswith((".", "/", "~")):
        if not path.is_dir():
            raise ModelNotAvailable(f"Model folder not found: {spec}. Pass a folder in the diffusers layout "
                                    "(with model_index.json), an original-format AudioLDM checkpoint (.pth) or a "
                                    "model id such as cvssp/audioldm2.")
        check_model_folder(path)
        return ResolvedModel(id=str(path.resolve()), folder=path.resolve())
    if spec.count("/") != 1:
        raise InputError(f"Unknown model {spec!r}: use a hub id like cvssp/audioldm2 (see `loa models list`) "
                         "or a path to a local model folder.")
    folder = cached_snapshot(spec)
    if folder is None:
        raise ModelNotAvailable(not_installed_message(spec))
    check_model_folder(folder)
    return ResolvedModel(id=spec, folder=folder)


def _checked_converted(folder: Path) -> Path:
    """A converted store folder, checked as any model folder is (it was renamed into place whole; this finds
    damage done since)."""
    try:
        check_model_folder(folder)
    except ModelNotAvailable as exc:
        raise ModelNotAvailable(f"The converted model in {folder} is unusable ({str(exc)[:200].rstrip('.')}): delete "
                                "that folder and it is converted again on next use.") from None
    return folder


def unknown_model_message(model_id: str) -> str:
    return (f"Unknown model {model_id}: it is neither in the catalog ({', '.join(CATALOG)}) nor installed. Choose a "
            f"catalog model, pass --model /path/to/folder, or, for another AudioLDM 2 model on the hub, download it "
            f"first with `loa models download {model_id}`.")


def defaults_entry(spec: str) -> Optional[ModelInfo]:
    """The catalog entry whose defaults (steps, guidance, seconds) suit `spec`: its own, or for a model outside
    the catalog that has a speech layout (a local copy of a speech checkpoint), the speech checkpoints'."""
    from core.models.catalog import DEFAULT_MODEL_BY_TASK
    from core.models.loading import is_speech_folder

    if str(spec) in CATALOG:
        return CATALOG[str(spec)]
    path = Path(str(spec)).expanduser()
    folder = path if str(spec) and path.is_dir() else None
    if folder is None and str(spec).count("/") == 1 and not str(spec).startswith((".", "/", "~")):
        folder = cached_snapshot(str(spec))
    if folder is not None and is_speech_folder(folder):
        return CATALOG[DEFAULT_MODEL_BY_TASK["speech"]]
    return None


def not_installed_message(model_id: str) -> str:
    if model_id not in CATALOG:
        return unknown_model_message(model_id)
    size = f" ({describe_download(CATALOG[model_id])})" if model_id in CATALOG else ""
    return (f"Model {model_id} is not installed. Download it once with `loa models download {model_id}`{size}, "
            f"or pass --model /path/to/folder holding a copy in the diffusers layout.")


def cached_snapshot(model_id: str) -> Optional[Path]:
    """The cached snapshot folder of a hub id, without touching the network; None when not cached."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    check_model_id(model_id)
    check_hub_cache()
    try:
        folder = Path(snapshot_download(model_id, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, OSError, ValueError) as exc:
        # huggingface_hub >= 1.x calls a snapshot incomplete when it lacks any file of the repo listing,
        # but download_model fetches one weight format only; check_model_folder judges what a pipeline needs.
        partial = getattr(exc, "snapshot_path", None)
        if partial is None:
            return None
        folder = Path(partial)
    return folder if (folder / MODEL_INDEX).is_file() else None


def check_model_folder(folder: Path) -> dict:
    """Check that `folder` holds a complete AudioLDM 2 pipeline; return its model_index.json.

    Raises ModelNotAvailable naming every missing piece, so a half-copied folder is fixed in one go.
    """
    index_path = folder / MODEL_INDEX
    if not index_path.is_file():
        raise ModelNotAvailable(f"{folder} is not a diffusers model folder: {MODEL_INDEX} is missing. "
                                "Point --model at the folder that holds model_index.json.")
    try:
        index = json.loads(index_path.read_text())
    except (ValueError, OSError) as exc:
        raise ModelNotAvailable(f"{index_path} cannot be read ({first_line(exc)}): {DAMAGED_HINT}.") from exc
    if not isinstance(index, dict):
        raise ModelNotAvailable(f"{index_path} {index_problem(index)}: {DAMAGED_HINT}.")
    if index_kind(index) is None:
        raise ModelNotAvailable(f"{folder} holds a {index.get('_class_name', 'unknown')} pipeline, not an "
                                f"AudioLDM 2 pipeline ({PIPELINE_CLASS}); choose an AudioLDM 2 model.")
    missing = []
    for name, spec in index.items():
        if name.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        missing.extend(_missing_in_component(folder, name, spec[0]))
    if missing:
        raise ModelNotAvailable(f"Model folder {folder} is incomplete: missing {', '.join(missing)}. "
                                "Copy the missing files or download the model again.")
    problem = index_problem(index)
    if problem:
        raise ModelNotAvailable(f"{index_path} {problem}: {DAMAGED_HINT}.")
    unreadable = config_problem(folder)
    if unreadable:
        raise ModelNotAvailable(f"Model folder {folder}: {unreadable}: {DAMAGED_HINT}.")
    damaged = [f"{p.relative_to(folder)} {why}" for p in _weight_files(folder, index)
               if (why := weight_problem(p)) is not None]
    if damaged:
        raise ModelNotAvailable(f"Model folder {folder}: {'; '.join(damaged)}: {DAMAGED_HINT}.")
    misfit = geometry_problem(folder)
    if misfit:
        raise ModelNotAvailable(f"The model in {folder} does not fit LOA Studio's audio front-end: {misfit}. "
                                "Choose an AudioLDM 2 checkpoint with the official geometry (16 kHz, hop 160) "
                                "or the 48 kHz AudioLDM model.")
    return index


def _weight_files(folder: Path, index: dict) -> list[Path]:
    return sorted(p for name, spec in index.items() if not name.startswith("_") and isinstance(spec, list)
                  and (folder / name).is_dir()
                  for p in (folder / name).iterdir() if p.name.endswith(WEIGHT_SUFFIXES) and p.is_file())


def _missing_in_component(folder: Path, name: str, library: str = "") -> list[str]:
    sub = folder / name
    if not sub.is_dir():
        return [f"{name}/"]
    required = COMPONENT_FILES.get(name)
    if required is not None:
        return [f"{name}/{f}" for f in required if not (sub / f).is_file()]
    missing = [] if (sub / "config.json").is_file() else [f"{name}/config.json"]
    weights = sorted(p.name for p in sub.iterdir() if p.name.endswith(WEIGHT_SUFFIXES))
    if not weights:
        missing.append(f"{name}/ weights (*.safetensors or *.bin)")
        return missing
    stem = "model" if library == "transformers" else "diffusion_pytorch_model"
    looked_for = (f"{stem}.safetensors", f"{stem}.bin", f"{stem}.safetensors.index.json", f"{stem}.bin.index.json",
                  *(("pytorch_model.bin", "pytorch_model.bin.index.json") if stem == "model" else ()))
    if not any((sub / n).is_file() for n in looked_for):  # the loader finds weights by these names only
        missing.append(f"{name}/{stem}.safetensors (the folder has {', '.join(weights[:3])}, a name the loader "
                       "does not look for)")
    return missing


def read_card_licence(folder: Path) -> Optional[str]:
    readme = folder / "README.md"
    if not readme.is_file():
        return None
    for line in readme.read_text(errors="replace").splitlines()[:40]:
        if line.strip().lower().startswith("license:"):
            return line.split(":", 1)[1].strip()
    return None


def files_to_download(repo_files: Iterable[str]) -> list[str]:
    """Pick the files a pipeline needs: configs and tokenizers, and per folder safetensors over .bin.

    Hub repos often carry both formats; taking one halves the download.
    """
    repo_files = list(repo_files)
    chosen = [f for f in repo_files if f.endswith((".json", ".txt", ".model")) and "/" in f
              or f in (MODEL_INDEX, "README.md")]
    by_folder: dict[str, list[str]] = {}
    for f in repo_files:
        if f.endswith(WEIGHT_SUFFIXES) and "/" in f:
            by_folder.setdefault(f.rsplit("/", 1)[0], []).append(f)
    for weights in by_folder.values():
        safetensors = [f for f in weights if f.endswith(".safetensors") and ".fp16." not in f]
        chosen.extend(safetensors or [f for f in weights if f.endswith(".bin") and ".fp16." not in f])
    return sorted(set(chosen))


def download_model(model_id: str, tqdm_class=None) -> Path:
    """Download (or resume) a hub model into the Hugging Face cache and return its folder.

    `tqdm_class` receives byte progress; the GUI passes one that forwards to a signal. By default
    bars go to stderr when it is a terminal.
    """
    from huggingface_hub import HfApi, constants, snapshot_download
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, OfflineModeIsEnabled, RepositoryNotFoundError

    info = CATALOG.get(model_id)
    if info is not None and info.is_original_format:
        check_hub_cache()
        return download_original(info, tqdm_class=tqdm_class or _terminal_bar_class())
    check_model_id(model_id)
    check_hub_cache()

    try:
        files = files_to_download(HfApi().list_repo_files(model_id))
        folder = Path(snapshot_download(model_id, allow_patterns=files,
                                        tqdm_class=tqdm_class or _terminal_bar_class()))
    except GatedRepoError as exc:  # a subclass of RepositoryNotFoundError: the repo exists
        raise ModelNotAvailable(f"Model {model_id} is gated on the Hugging Face hub: accept its licence on "
                                f"{constants.ENDPOINT}/{model_id}, log in with `hf auth login`, then run "
                                f"`loa models download {model_id}` again.") from exc
    except RepositoryNotFoundError as exc:
        raise InputError(f"No model {model_id} on the Hugging Face hub; check the id (`loa models list`).") from exc
    except OfflineModeIsEnabled as exc:
        raise ModelNotAvailable(f"Cannot download {model_id}: HF_HUB_OFFLINE is set. Unset it, or copy the model "
                                "folder here and pass --model /path/to/folder.") from exc
    except (HfHubHTTPError, OSError, *_transport_errors()) as exc:
        raise ModelNotAvailable(f"Cannot download {model_id}: {first_line(exc)}. Check the network and run "
                                f"`loa models download {model_id}` again (files already fetched are kept).") from exc
    check_model_folder(folder)
    return folder


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Network errors of the HTTP client huggingface_hub uses; requests' are OSErrors, httpx's are not."""
    return tuple(module.TransportError for name in ("httpx2", "httpx")
                 if (module := sys.modules.get(name)) is not None and hasattr(module, "TransportError"))


def _terminal_bar_class():
    """Byte bars on stderr, drawn only when it is a terminal.

    Not huggingface_hub's own bar class: that one obeys disable_progress_bars(), which transformers
    calls when the CLI quiets the model libraries, and a multi-GB download must not look frozen.
    """
    from tqdm.auto import tqdm

    class TerminalBar(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("disable", None)  # None: tqdm draws only on a terminal
            super().__init__(*args, **kwargs)

    return TerminalBar


@dataclass(frozen=True)
class InstalledModel:
    id: str
    folder: Path
    size_bytes: int
    problem: Optional[str] = None  # why the snapshot cannot be used (incomplete, damaged); None when whole


def installed_models(include_incomplete: bool = False) -> list[InstalledModel]:
    """Models in the Hugging Face cache that hold a complete AudioLDM 2 pipeline (check_model_folder passes);
    with `include_incomplete`, also those that do not, with `problem` saying why (a download cut short)."""
    from huggingface_hub import constants, scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    check_hub_cache()
    try:
        # Pass the folder explicitly: scan_cache_dir's default is bound at import, the downloaders' is not.
        cache = scan_cache_dir(constants.HF_HUB_CACHE)
    except CacheNotFound:
        return []
    found = []
    for repo in cache.repos:
        if repo.repo_type != "model":
            continue
        for revision in repo.revisions:
            index = Path(revision.snapshot_path) / MODEL_INDEX
            if index.is_file() and any(name in index.read_text(errors="replace") for name in PIPELINE_CLASSES):
                try:
                    check_model_folder(Path(revision.snapshot_path))
                    problem = None
                except ModelNotAvailable as exc:
                    problem = str(exc)
                if problem is None or include_incomplete:
                    found.append(InstalledModel(repo.repo_id, Path(revision.snapshot_path), repo.size_on_disk,
                                                problem))
                break
    return sorted(found, key=lambda m: m.id)

