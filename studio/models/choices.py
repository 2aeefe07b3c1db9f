"""The models the window can offer: catalog checkpoints, installed and converted ones, and local folders,
each with its task, size, licence and rate; and the first-run text that names them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from core.audio.clip import MODEL_RATE
from core.audio.formats.containers import rate_label
from core.models.catalog import CATALOG, describe_size
from core.models.imported import cached_original
from core.models.loading import is_speech_folder
from core.models.store import installed_models, read_card_licence
from studio.models.checkpoint_import import converted_title


@dataclass(frozen=True)
class ModelChoice:
    """A model the user can pick: a catalog id (installed or not) or a local folder."""

    spec: str  # what Engine() takes: hub id or folder path
    title: str
    task: str  # "sound", "music", "speech", or "any" for local text-to-audio folders
    installed: bool
    size_bytes: Optional[int]
    licence: str
    local: bool = False
    sample_rate: Optional[int] = None  # the rate its takes are made at, shown in the picker ("48 kHz")

    def suits(self, task: str) -> bool:
        if self.task == "speech" or task == "speech":
            return self.task == task
        return True  # sound and music checkpoints both do text-to-audio; the catalog default comes first

    @property
    def size_text(self) -> str:
        return describe_size(self.size_bytes) if self.size_bytes else "size unknown"

    @property
    def label(self) -> str:
        state = "" if self.installed else f"  — not installed, {self.size_text}"
        rate = f" · {rate_label(self.sample_rate)}" if self.sample_rate else ""
        return f"{self.title}{rate}{state}"

    @classmethod
    def for_spec(cls, spec: str) -> "ModelChoice":
        info = CATALOG.get(spec)
        if info is not None:
            return cls(spec, info.id, info.task, False, info.download_bytes, info.licence,
                       sample_rate=getattr(info, "sample_rate", MODEL_RATE))
        return cls(spec, spec, "any", Path(spec).is_dir(), None, "unknown", local=True,
                   sample_rate=folder_rate(Path(spec)))


def local_choice(folder: str) -> ModelChoice:
    path = Path(folder)
    try:
        task = "speech" if is_speech_folder(path) else "any"
    except (OSError, ValueError):
        task = "any"
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else None
    return ModelChoice(str(path), converted_title(path) or f"{path.name} (local folder)", task, path.is_dir(), size,
                       read_card_licence(path) or "unknown (see the model card)", local=True)


def model_choices(local_folders: list[str]) -> list[ModelChoice]:
    """Every catalog model (with what is installed), other installed AudioLDM 2 models, and local folders."""
    installed = {m.id: m for m in installed_models()}
    choices = []
    for info in CATALOG.values():
        have = installed.pop(info.id, None)
        if info.is_original_format:  # one .pth in the hub cache, converted on first use
            have = _Have(cached.stat().st_size) if (cached := cached_original(info)) else None
        choices.append(ModelChoice(info.id, info.id, info.task, have is not None,
                                   have.size_bytes if have else info.download_bytes, info.licence))
    for extra in installed.values():
        choices.append(ModelChoice(extra.id, extra.id, "any", True, extra.size_bytes,
                                   read_card_licence(extra.folder) or "unknown (see the model card)"))
    choices += [local_choice(f) for f in local_folders]
    return [with_rate(c, {e.id: e.folder for e in installed.values()}) for c in choices]


@dataclass(frozen=True)
class _Have:
    size_bytes: int


def has_usable_model(local_folders: list[str]) -> bool:
    return any(c.installed for c in model_choices(local_folders))


def with_rate(choice: ModelChoice, folders: dict) -> ModelChoice:
    """The choice with the rate its takes are made at: the catalog's, else the folder's vocoder config's."""
    info = CATALOG.get(choice.spec)
    if info is not None:
        return replace(choice, sample_rate=getattr(info, "sample_rate", MODEL_RATE))
    return replace(choice, sample_rate=folder_rate(Path(folders.get(choice.spec, choice.spec))))


def folder_rate(folder: Path) -> Optional[int]:
    """The rate a model folder's vocoder states, or None for a folder that is not there or holds no model."""
    from core.models.geometry import folder_geometry

    if not (folder / "vocoder").is_dir():
        return None
    return folder_geometry(folder).rate


def first_run_text(in_dialog: bool = False) -> str:
    """What a new user reads when no model is installed: what to download and how big it is."""
    where = ("Select one and press Download, or add a local model folder:" if in_dialog else
             "Download one in Models…, or add a local model folder there:")
    lines = ["No model is installed yet, so generation is off. The library and the editor still work.", where]
    for info in CATALOG.values():
        lines.append(f"  • {info.id} — {info.title}, {describe_size(info.download_bytes)}, licence {info.licence}")
    return "\n".join(lines)


def first_run_summary() -> str:
    """The first-run note for the window: generation is off, and every checkpoint with what it is for and its size
    (as the README and docs/models.md promise), short enough to wrap into a few lines at 1024 px; first_run_text is its tooltip."""
    checkpoints = "; ".join(f"{info.id} — {_purpose(info)}, {describe_size(info.download_bytes)}"
                            for info in CATALOG.values())
    return ("No model is installed: generation is off (the library and the editor work). Open Models… to download "
            f"one or to add a local model folder. Checkpoints: {checkpoints}.")


def _purpose(info) -> str:
    """"sound effects and general audio" from "AudioLDM 2 (sound effects and general audio)"."""
    title = info.title
    return title[title.index("(") + 1:title.rindex(")")] if "(" in title and title.endswith(")") else info.task
