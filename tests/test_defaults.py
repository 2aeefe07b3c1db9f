"""One source of generation defaults: core.generation.defaults.defaults_for is the only place the numbers live."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

from core.generation.defaults import SOUND, SPEECH, defaults_for

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / "core" / "generation" / "defaults.py"


def _numbers_near_a_knob(path: Path) -> list[str]:
    """Number literals 25 / 3.5 / 50 / 5.0 on a line that names steps or guidance, and any 3.5 at all."""
    found = []
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    knob_lines = {t.start[0] for t in tokens if t.type in (tokenize.NAME, tokenize.STRING)
                  and ("steps" in t.string.lower() or "guidance" in t.string.lower())}
    for tok in tokens:
        if tok.type != tokenize.NUMBER:
            continue
        try:
            value = float(tok.string.replace("_", ""))
        except ValueError:  # hex, complex
            continue
        knob = tok.start[0] in knob_lines
        if value == 3.5 or (knob and value in (25.0, 50.0, 5.0)):
            found.append(f"{path.relative_to(ROOT)}:{tok.start[0]}: {lines[tok.start[0] - 1].strip()}")
    return found


def test_the_default_steps_and_guidance_are_typed_in_one_module():
    stray = [hit for folder in ("core", "studio") for path in sorted((ROOT / folder).rglob("*.py"))
             if path != HOME for hit in _numbers_near_a_knob(path)]
    assert stray == []
    assert _numbers_near_a_knob(HOME)  # the check does find them where they live


def test_defaults_for_reads_the_catalog_speech_layouts_and_local_folders(tiny_model_dir, tiny_speech_model_dir,
                                                                         tmp_path):
    assert defaults_for("cvssp/audioldm2") == SOUND
    assert defaults_for("anhnct/audioldm2_ljspeech") == SPEECH
    assert defaults_for(str(tiny_speech_model_dir)) == SPEECH  # a local copy of a speech checkpoint
    assert defaults_for(str(tiny_model_dir)) == SOUND
    assert defaults_for(str(tmp_path / "nowhere")) == SOUND
    assert (SOUND.steps, SOUND.guidance, SPEECH.steps, SPEECH.guidance) == (25, 3.5, 50, 5.0)


def test_every_entry_point_starts_from_the_same_defaults(tiny_speech_model_dir, tmp_path):
    from core.batch.jobs import read_jobs
    from core.cli.common import model_defaults
    from core.generation.presets import Preset
    from core.generation.requests import GenerationRequest, GenerationSettings
    from studio.generate.mode_fields import default_fields

    assert model_defaults(str(tiny_speech_model_dir)) == (SPEECH.steps, SPEECH.guidance)
    request, knobs, preset = GenerationRequest("x"), GenerationSettings(), Preset("p", "sound")
    assert (request.steps, request.guidance) == (knobs.steps, knobs.guidance) == (preset.steps, preset.guidance) \
        == (SOUND.steps, SOUND.guidance)
    assert (default_fields("speech").steps, default_fields("speech").guidance) == (SPEECH.steps, SPEECH.guidance)
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(f"prompt,mode,words,model\nrain,sound,,{tiny_speech_model_dir}\n"
                    f"a voice,speech,hello there,{tiny_speech_model_dir}\n")
    row = read_jobs(jobs).rows[0]
    assert (row.steps, row.guidance) == (SPEECH.steps, SPEECH.guidance)
