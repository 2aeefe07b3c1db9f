"""Checks of a model folder's JSON configs before any library reads them.

diffusers and transformers build a component from its config with the values as they are: a config that is a list,
or a number written as text (`"upsample_rates": "4"`), fails deep inside them as a TypeError, or as a message
about connecting to the hub for a local folder. Each config must be a JSON object, and every setting that the
official AudioLDM 2 configs (resources/official-configs) also hold must have the same kind of value there:
number, text, true/false, list (of the same kinds) or table. A null is accepted (the libraries' default).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any, Optional

# Each component's config file; the model ones are also compared with the official configs' kinds of values.
CONFIG_FILES = {"vae": "config.json", "unet": "config.json", "vocoder": "config.json", "text_encoder": "config.json",
                "text_encoder_2": "config.json", "projection_model": "config.json", "language_model": "config.json",
                "scheduler": "scheduler_config.json", "feature_extractor": "preprocessor_config.json",
                "tokenizer": "tokenizer_config.json", "tokenizer_2": "tokenizer_config.json"}
COMPARED = ("vae", "unet", "vocoder", "text_encoder", "text_encoder_2", "projection_model", "language_model",
            "scheduler")
# Same model class, the same settings mean the same (model_type only where neither names a class: transformers
# renamed some, e.g. the vocoder's "hifigan" is "speecht5_hifigan" since transformers 5).
_CLASS_KEYS = ("_class_name", "architectures")
# Settings diffusers takes as one number for every block or one per block (a converted AudioLDM UNet has a head
# count per level: widths 128, 256, 384, 640 at 32 channels a head).
NUMBER_OR_LIST = ("attention_head_dim", "num_attention_heads", "transformer_layers_per_block", "layers_per_block")


def config_problem(folder: Path) -> Optional[str]:
    """The first config of `folder` that cannot be read as settings, as "COMPONENT/FILE does this", or None.
    A missing config is not reported here (check_model_folder lists missing files)."""
    for component, name in CONFIG_FILES.items():
        path = Path(folder) / component / name
        if not path.is_file():
            continue
        where = f"{component}/{name}"
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = getattr(exc, "msg", None) or getattr(exc, "reason", None) or type(exc).__name__
            return f"{where} is not valid JSON ({reason})"
        if not isinstance(config, dict):
            return f"{where} holds {_shown(config)} instead of a table of settings"
        if component not in COMPARED:
            continue
        reference = _reference(component, name, config)
        if reference is None:
            continue
        for key in sorted(set(config) & set(reference)):
            value = config[key]
            if key in NUMBER_OR_LIST and isinstance(value, list) and _kind(reference[key]) == "a number":
                value = value[0] if value and all(_kind(v) == "a number" for v in value) else value
            wrong = _kind_problem(value, reference[key])
            if wrong:
                return f"{where} sets {key} to {_shown(config[key])}, but it must be {wrong}"
    return None


def _reference(component: str, name: str, config: dict) -> Optional[dict]:
    """The official config of the same class (any class, for the scheduler: its settings are shared)."""
    for official in _official_configs(component, name):
        shared = [k for k in _CLASS_KEYS if k in official and k in config] or \
            [k for k in ("model_type",) if k in official and k in config]
        if component == "scheduler" or all(official[k] == config[k] for k in shared):
            return official
    return None


@lru_cache(maxsize=None)
def _official_configs(component: str, name: str) -> tuple[dict, ...]:
    root = importlib_resources.files("resources") / "official-configs"
    found = []
    for variant in sorted(root.iterdir(), key=lambda entry: entry.name):
        entry = variant / component / name
        if entry.is_file():
            found.append(json.loads(entry.read_text(encoding="utf-8")))
    return tuple(found)


def _kind(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "a table"


def _kind_problem(value: Any, official: Any) -> Optional[str]:
    """What kind `value` must be (from the official value), or None when it fits."""
    want, have = _kind(official), _kind(value)
    if want is None or have is None:
        return None
    if want != have:
        if want == "a list" and official and _kind(official[0]) is not None:
            return f"a list of {_plural(_kind(official[0]))}"
        return want
    if want == "a list" and official:
        for item in value:
            if _kind_problem(item, official[0]):
                inner = _kind(official[0])
                return f"a list of {_plural(inner)}"
    return None


def _plural(kind: Optional[str]) -> str:
    return {"a number": "numbers", "text": "texts", "a list": "lists", "a table": "tables",
            "true or false": "true/false values"}.get(kind or "", "values")


def _shown(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 30 else text[:27] + "..."
