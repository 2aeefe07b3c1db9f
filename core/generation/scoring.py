"""CLAP text-audio similarity: how well each candidate matches its prompt."""

from __future__ import annotations

import numpy as np
import torch

from core.audio.clip import resample
from core.generation.low_vram import execution_device
from core.generation.prompts import token_limit


def clap_scores(pipe, text: str, waves: np.ndarray, rate: int) -> np.ndarray:
    """Cosine similarity in CLAP space between `text` and each row of `waves` (-1..1, higher is better)."""
    fe = pipe.feature_extractor
    clap_rate = fe.sampling_rate
    audio = resample(waves.T, rate, clap_rate).T
    # CLAP hears at most max_length_s; crop ourselves, since its own truncation picks a random window.
    audio = audio[:, : int(fe.nb_max_samples)]
    features = fe(list(audio), return_tensors="pt", sampling_rate=clap_rate).input_features
    # The same window the pipeline encodes with (callers cut the text to it first; this guards the rest).
    tokens = pipe.tokenizer([text], return_tensors="pt", padding=True, truncation=True,
                            max_length=token_limit(pipe, pipe.tokenizer))
    encoder = pipe.text_encoder
    dtype = next(encoder.parameters()).dtype
    device = execution_device(encoder)  # low-VRAM mode: the GPU its offload hook moves it to
    with torch.no_grad():
        out = encoder(input_ids=tokens.input_ids.to(device), attention_mask=tokens.attention_mask.to(device),
                      input_features=features.to(device=device, dtype=dtype))
    similarity = (out.text_embeds.float() @ out.audio_embeds.float().T)[0]
    return similarity.cpu().numpy()
