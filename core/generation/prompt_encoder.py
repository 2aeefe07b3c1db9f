"""AudioLDM 2's prompt encoding, the stock pipeline's arithmetic in fewer passes over the weights.

The stock `encode_prompt` runs every text encoder twice (prompt, then negative prompt) and rolls GPT-2 out twice,
each of its 8 steps re-running the whole growing sequence. On a CPU those small-batch passes are bound by reading
the weights, so they cost the same for one row as for two: a fresh prompt spent ~2.0 of its ~2.7 s encoding in
the two rollouts (full-size audioldm2, 2 cores). Here both halves go through each encoder in one batch and the
rollout keeps GPT-2's key/value cache, so each step runs one new position. The inputs are the stock ones, row by
row (the negative prompt padded/cut to the prompt's T5 length, the CLAP text padded as stock pads it, absolute
positions 0..n-1 in the rollout), so the outputs equal stock's to float rounding (tests/test_prompt_encoder.py).

What stock does that is kept as it is: the speech kind's VITS encoder runs per half (it edits its inputs), and an
empty-guidance negative half there is zeros.
"""

from __future__ import annotations

import inspect
from typing import Optional

import torch


def _cache_argument(model) -> str:
    """GPT-2's name for its key/value cache argument: `cache` in transformers 5.x, `past_key_values` before."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _new_cache(config):
    from transformers import DynamicCache

    try:
        return DynamicCache(config=config)
    except TypeError:  # transformers 4.x takes no config
        return DynamicCache()


def rollout(language_model, embeds: torch.Tensor, mask: torch.Tensor, new_tokens: int) -> torch.Tensor:
    """GPT-2's last hidden state, fed back `new_tokens` times (the pipeline's `generate_language_model`), with a
    key/value cache. Rows share a length; masked positions stay masked and new ones are attended."""
    # GPT2LMHeadModel wraps the GPT2Model: call the body (no vocabulary logits), unless an offload hook sits on
    # the wrapper (low-VRAM mode), which must run to move the model to the GPU.
    hooked = hasattr(language_model, "_hf_hook")
    gpt2 = language_model if hooked else getattr(language_model, "transformer", language_model)
    cache = _new_cache(gpt2.config)
    cache_arg = _cache_argument(gpt2)
    length = embeds.shape[1]
    step_input, generated = embeds, []
    for step in range(new_tokens):
        positions = torch.arange(length - step_input.shape[1], length, device=embeds.device).unsqueeze(0)
        out = gpt2(inputs_embeds=step_input, attention_mask=mask, position_ids=positions, use_cache=True,
                   output_hidden_states=hooked, **{cache_arg: cache})
        if cache_arg == "past_key_values":  # transformers 4.x may hand back a new object; 5.x fills ours in place
            cache = out.past_key_values
        last = out.hidden_states[-1] if hooked else out.last_hidden_state
        step_input = last[:, -1:, :]
        generated.append(step_input)
        mask = torch.cat([mask, mask.new_ones((mask.shape[0], 1))], dim=1)
        length += 1
    return torch.cat(generated, dim=1)


def _trimmed(ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop trailing columns that are padding in every row: masked keys get zero weight, and RoBERTa numbers
    positions from the ids, so the real tokens' states do not change (CLAP pads its text to 77 tokens)."""
    used = int(mask.sum(dim=0).nonzero().max()) + 1 if mask.any() else 1
    return ids[:, :used], mask[:, :used]


def _clap_text(pipe, texts: list[str], device) -> tuple[torch.Tensor, torch.Tensor]:
    tok = pipe.tokenizer
    inputs = tok(texts, padding="max_length", max_length=tok.model_max_length, truncation=True, return_tensors="pt")
    ids, mask = _trimmed(inputs.input_ids.to(device), inputs.attention_mask.to(device))
    embeds = pipe.text_encoder.get_text_features(ids, attention_mask=mask)
    embeds = getattr(embeds, "pooler_output", embeds)
    return embeds[:, None, :], mask.new_ones((len(texts), 1))


def _t5_text(pipe, prompt: str, negative: Optional[str], device) -> tuple[torch.Tensor, torch.Tensor]:
    tok = pipe.tokenizer_2
    first = tok([prompt], padding=True, max_length=tok.model_max_length, truncation=True, return_tensors="pt")
    ids, mask = first.input_ids, first.attention_mask
    if negative is not None:  # stock pads or cuts the negative prompt to the prompt's length
        second = tok([negative], padding="max_length", max_length=ids.shape[1], truncation=True, return_tensors="pt")
        ids, mask = torch.cat([ids, second.input_ids]), torch.cat([mask, second.attention_mask])
    ids, mask = ids.to(device), mask.to(device)
    return pipe.text_encoder_2(ids, attention_mask=mask)[0], mask


def _vits_text(pipe, transcription: Optional[str], guided: bool, device) -> tuple[torch.Tensor, torch.Tensor]:
    """The speech kind's phoneme states, as stock makes them: the first pad id becomes 182 and is attended;
    the negative half is zeros with a zero mask."""
    tok, encoder = pipe.tokenizer_2, pipe.text_encoder_2.text_encoder
    inputs = tok(transcription, padding="max_length", max_length=tok.model_max_length, truncation=True,
                 return_tensors="pt")
    ids, mask = inputs.input_ids.to(device), inputs.attention_mask.to(device)
    for row_ids, row_mask in zip(ids, mask):
        pads = (row_ids == 0).nonzero()
        if len(pads):
            row_ids[pads[0, 0]], row_mask[pads[0, 0]] = 182, 1
    states = encoder(ids, attention_mask=mask, padding_mask=mask.unsqueeze(-1))[0]
    if not guided:
        return states, mask
    dtype = pipe.text_encoder_2.dtype
    zeros = torch.zeros(1, tok.model_max_length, encoder.config.hidden_size, dtype=dtype, device=device)
    zero_mask = torch.zeros(1, tok.model_max_length, dtype=dtype, device=device)
    return torch.cat([states.to(dtype), zeros]), torch.cat([mask.to(dtype), zero_mask])


def encode_prompt(pipe, prompt: str, device, candidates: int, guided: bool, negative_prompt: Optional[str] = None,
                  transcription: Optional[str] = None, max_new_tokens: Optional[int] = None) -> tuple:
    """(text states, their mask, GPT-2 states) for `candidates` takes, the negative half first when `guided`:
    what `pipe.encode_prompt` returns for one prompt."""
    from transformers import VitsModel

    speech = isinstance(pipe.text_encoder_2, VitsModel)
    negative = (negative_prompt or "") if guided else None
    texts = [prompt] if negative is None else [prompt, negative]
    clap, clap_mask = _clap_text(pipe, texts, device)
    if speech:
        states, mask = _vits_text(pipe, transcription, guided, device)
    else:
        states, mask = _t5_text(pipe, prompt, negative, device)
    projected = pipe.projection_model(hidden_states=clap, hidden_states_1=states, attention_mask=clap_mask,
                                      attention_mask_1=mask)
    new_tokens = max_new_tokens if max_new_tokens is not None else pipe.language_model.config.max_new_tokens
    generated = rollout(pipe.language_model, projected.hidden_states, projected.attention_mask, new_tokens)

    states = states.to(dtype=pipe.text_encoder_2.dtype)
    generated = generated.to(dtype=pipe.language_model.dtype)
    order = [1, 0] if guided else [0]  # stock puts the negative half first
    per_take = lambda t: torch.cat([t[i:i + 1].repeat_interleave(candidates, dim=0) for i in order])  # noqa: E731
    return per_take(states), per_take(mask), per_take(generated)
