import math

import pytest

from core.errors import InputError
from core.generation.requests import MAX_CANDIDATES, MAX_SECONDS, GenerationRequest


@pytest.mark.parametrize("field, value, words", [
    ("prompt", "", "prompt is empty"),
    ("prompt", "   ", "prompt is empty"),
    ("seconds", 0, "seconds must be"),
    ("seconds", -1.0, "seconds must be"),
    ("seconds", MAX_SECONDS + 1, f"at most {MAX_SECONDS:g}"),
    ("seconds", math.nan, "seconds must be"),
    ("steps", 0, "steps must be a whole number from 1"),
    ("steps", 2.5, "steps must be"),
    ("guidance", math.inf, "guidance must be a finite number"),
    ("guidance", math.nan, "guidance must be a finite number"),
    ("guidance", -1.0, "guidance must be"),
    ("candidates", 0, "candidates must be a whole number from 1"),
    ("candidates", MAX_CANDIDATES + 1, f"to {MAX_CANDIDATES}"),
    ("seed", -5, "seed must be"),
    ("scheduler", "euler", "scheduler 'euler' is not available"),
    ("transcription", "  ", "transcription is empty"),
])
def test_bad_fields_are_rejected_with_the_field_and_range(field, value, words):
    fields = {"prompt": "rain on a tin roof", field: value}
    with pytest.raises(InputError) as info:
        GenerationRequest(**fields).validated()
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_validation_fills_a_random_seed_and_keeps_a_given_one():
    picked = GenerationRequest("rain").validated()
    assert isinstance(picked.seed, int) and picked.seed >= 0
    assert GenerationRequest("rain", seed=42).validated().seed == 42


def test_prompt_is_trimmed_and_empty_prompt_allowed_when_asked():
    assert GenerationRequest("  rain ").validated().prompt == "rain"
    assert GenerationRequest("", allow_empty_prompt=True).validated().prompt == ""
