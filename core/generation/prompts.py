"""Prompts longer than the text encoders' windows: cut once, at a word, before encoding and scoring.

The pipeline's tokenizers silently truncate at their `model_max_length` (77 on the tiny test models, 512 on the
official ones) while CLAP ranking used to tokenise the whole prompt and overran CLAP's position table. Cutting
the text itself, once, makes encoding and ranking read the same words, and tells the caller what was used.
"""

from __future__ import annotations

from typing import Optional


def prompt_tokenizers(pipe, speech: bool) -> list:
    """The tokenizers that read the prompt: CLAP's, and T5's too on AudioLDM 2 text-to-audio models (speech models
    give their second tokenizer the transcription; the 48 kHz AudioLDM layout has CLAP's only)."""
    second = getattr(pipe, "tokenizer_2", None)
    return [pipe.tokenizer] if speech or second is None else [pipe.tokenizer, second]


def token_limit(pipe, tokenizer) -> int:
    """How many tokens `tokenizer` hands its encoder; for CLAP also bounded by its position table (RoBERTa
    positions start after the padding index, hence the 2)."""
    limit = int(tokenizer.model_max_length)
    if tokenizer is pipe.tokenizer:
        config = pipe.text_encoder.config  # ClapModel's, or ClapTextModelWithProjection's (the text config itself)
        positions = getattr(getattr(config, "text_config", config), "max_position_embeddings", None)
        if positions:
            limit = min(limit, int(positions) - 2)
    return limit


def fit_prompt(pipe, prompt: str, speech: bool) -> Optional[str]:
    """The longest whole-word beginning of `prompt` that every prompt tokenizer reads in full, or None when the
    whole prompt fits."""
    if not prompt:
        return None
    end = len(prompt)
    for tokenizer in prompt_tokenizers(pipe, speech):
        end = min(end, _kept_chars(tokenizer, prompt[:end], token_limit(pipe, tokenizer)))
    if end >= len(prompt):
        return None
    cut = prompt[:end]
    # Back off to a word boundary unless the prompt starts with one unbroken word longer than the window.
    if end < len(prompt) and not prompt[end].isspace() and " " in cut.strip():
        cut = cut[: cut.rstrip().rfind(" ")]
    return cut.rstrip()


def _kept_chars(tokenizer, text: str, limit: int) -> int:
    """Characters of `text` inside the first `limit` tokens (special tokens included) of `tokenizer`."""
    ids = tokenizer(text, verbose=False).input_ids
    if len(ids) <= limit:
        return len(text)
    try:
        enc = tokenizer(text, truncation=True, max_length=limit, return_offsets_mapping=True, verbose=False)
        ends = [end for start, end in enc["offset_mapping"] if end > start]
        return max(ends) if ends else 0
    except NotImplementedError:  # slow tokenizers have no offsets: shorten word by word
        words = text.split(" ")
        while len(words) > 1 and len(tokenizer(" ".join(words), verbose=False).input_ids) > limit:
            words.pop()
        return len(" ".join(words))
