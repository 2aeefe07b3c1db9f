"""Checks of what names a hub model and where the Hugging Face cache lives, before huggingface_hub is asked:
its own errors (HFValidationError, a ValueError from the cache scan) read as internal faults to a user."""

from __future__ import annotations

from pathlib import Path

from core.errors import InputError


def check_model_id(model_id: str) -> None:
    """Refuse text that cannot be a hub model id (empty, a path such as ../../etc, bad characters)."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    from core.models.catalog import CATALOG

    example = f"e.g. {next(iter(CATALOG))} (see `loa models list`)"
    if not isinstance(model_id, str) or not model_id.strip():
        raise InputError(f"the model id is empty: give a hub id, {example}.")
    try:
        validate_repo_id(model_id)
        if ".." in model_id.split("/"):
            raise HFValidationError("a path")
    except HFValidationError as exc:
        raise InputError(f"{model_id!r} is not a hub model id: an id is OWNER/NAME in letters, digits, '-', '_' "
                         f"and '.', {example}.") from exc


def check_hub_cache() -> None:
    """Refuse a Hugging Face cache location that is not a folder (HF_HUB_CACHE or HF_HOME set to a file)."""
    from huggingface_hub import constants

    cache = Path(constants.HF_HUB_CACHE)
    for place in (cache, *cache.parents):
        if place.exists():
            if not place.is_dir():
                raise InputError(f"the Hugging Face cache {cache} cannot be used: {place} is a file, not a folder. "
                                 "Point HF_HUB_CACHE (or HF_HOME) at a folder, or unset it.")
            return
