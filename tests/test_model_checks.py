"""Up-front checks of models and text: damaged folders, speech layouts, numbers too long to say, messages in the
text's order. Each folder is a real tiny pipeline, damaged the way a cut download or a full disk damages it."""

import json
import shutil

import numpy as np
import pytest

from core.errors import InputError, ModelNotAvailable
from core.models.store import check_model_folder, defaults_entry, resolve_model
from core.speech.text import check_speakable, normalize_text


@pytest.fixture
def model_copy(tiny_model_dir, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, folder)
    return folder


@pytest.mark.parametrize("component", ["vocoder", "language_model", "text_encoder", "unet"])
@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_a_damaged_weight_file_is_named_and_refused_before_loading(model_copy, component, damage):
    weights = next((model_copy / component).glob("*.safetensors"))
    size = weights.stat().st_size
    with weights.open("r+b") as f:
        f.truncate(0 if damage == "empty" else size // 2)
    with pytest.raises(ModelNotAvailable) as caught:
        resolve_model(str(model_copy))
    message = str(caught.value)
    assert f"{component}/{weights.name}" in message and "the folder is damaged; download it again" in message
    assert caught.value.exit_code == 3


@pytest.mark.parametrize("content", ["[]", "null", '"text"', "{}", '{"_class_name": "AudioLDM2Pipeline"}'])
def test_a_model_index_that_is_not_a_component_table_is_damage(model_copy, content):
    (model_copy / "model_index.json").write_text(content)
    with pytest.raises(ModelNotAvailable) as caught:
        check_model_folder(model_copy)
    assert "download it again" in str(caught.value) or "not an AudioLDM 2 pipeline" in str(caught.value)


def test_a_whole_folder_passes(tiny_model_dir):
    assert check_model_folder(tiny_model_dir)["_class_name"] == "AudioLDM2Pipeline"


def test_a_local_speech_folder_gets_the_speech_defaults(tiny_speech_model_dir, tiny_model_dir, tmp_path):
    speech = defaults_entry(str(tiny_speech_model_dir))
    assert (speech.default_steps, speech.default_guidance) == (50, 5.0)
    assert defaults_entry(str(tiny_model_dir)) is None  # a sound model outside the catalog: generic defaults
    assert defaults_entry(str(tmp_path / "nowhere")) is None


@pytest.mark.parametrize("digits", [303, 320, 5000])
def test_a_number_too_long_to_say_is_refused_clearly(digits):
    with pytest.raises(InputError, match=rf"\({digits} digits\): it is too long to spell out"):
        normalize_text(f"call {'9' * digits} now")
    with pytest.raises(InputError, match="too long to spell out"):
        normalize_text(f"pay {'9' * 400}.5 dollars")


def test_a_long_but_sayable_number_is_still_spelled_out():
    assert normalize_text("1" + "0" * 30) == "one nonillion"
    assert "digits" not in normalize_text("call 0" + "9" * 40)  # codes starting with 0 are said digit by digit


def test_characters_outside_the_model_are_listed_in_the_texts_order(tiny_speech_engine):
    with pytest.raises(InputError) as caught:
        normalize_text("жёлтый дом")
    assert "'желтыидо'" in str(caught.value)  # sorted would give 'деижлоты'
    tokenizer = tiny_speech_engine.pipeline.tokenizer_2
    with pytest.raises(InputError) as caught:
        check_speakable(tokenizer, "b9 a1 c5", "b9 a1 c5")
    assert "'915'" in str(caught.value)


# ---- the model's audio geometry against the mel front-end ----------------------------------------------------

def test_every_official_checkpoint_fits_the_front_end(official_configs):
    from core.audio.mel import OFFICIAL
    from core.models.geometry import geometry_problem, model_front_end

    folders = sorted(p for p in official_configs.iterdir() if (p / "vocoder").is_dir())
    assert len(folders) == 4
    for folder in folders:
        assert geometry_problem(folder) is None, folder.name
        assert model_front_end(folder) == OFFICIAL, folder.name


@pytest.mark.parametrize("change, words", [
    ({"upsample_rates": [4, 4, 4, 4]}, "turns each mel frame into 256 samples"),
    ({"sampling_rate": 24000}, "makes 24000 Hz audio"),
])
def test_a_vocoder_of_another_geometry_is_refused_at_load_naming_it(model_copy, change, words):
    config_path = model_copy / "vocoder" / "config.json"
    config_path.write_text(json.dumps({**json.loads(config_path.read_text()), **change}))
    with pytest.raises(ModelNotAvailable, match=words):
        resolve_model(str(model_copy))


def test_the_front_end_reads_the_mel_bins_from_the_model_so_in_context_edits_work(tmp_path, corpus_files):
    """A model with 32 mel bins: its front-end says so, and continuing a real recording works (it crashed with a
    tensor-size error when the front-end always made 64 bins)."""
    from tiny_pipeline import build_tiny_pipeline

    from core.audio.clip import load_clip
    from core.audio.mel import log_mel
    from core.generation.engine import Engine
    from core.incontext.regenerate import GenerationSettings, continue_clip
    from core.models.geometry import model_front_end

    folder = build_tiny_pipeline(tmp_path / "mel32", vocoder={"model_in_dim": 32})
    front = model_front_end(folder)
    assert (front.n_mels, front.hop, front.sample_rate) == (32, 160, 16_000)
    assert log_mel(np.zeros(1600, np.float32), front).shape == (10, 32)
    clip = load_clip(next(p for p in corpus_files if p.name.startswith("speech_")))
    result = continue_clip(Engine(folder, device="cpu"), clip, 0.5, GenerationSettings(steps=2, seed=1))
    assert result.best.clip.seconds == pytest.approx(clip.seconds + 0.5, abs=0.01)


# ---- the hub cache --------------------------------------------------------------------------------------------

def test_models_list_never_shows_an_incomplete_snapshot_as_installed(tiny_model_dir, hf_home, capsys):
    """A download cut short: the snapshot has model_index.json but the vocoder's weights never arrived."""
    from hf_cache import install_into_cache

    from core.cli.main import main
    from core.models.store import installed_models

    snapshot = install_into_cache(tiny_model_dir, "cvssp/audioldm2-music", hf_home)
    install_into_cache(tiny_model_dir, "cvssp/audioldm2", hf_home)
    for weights in (snapshot / "vocoder").glob("*.safetensors"):
        weights.unlink()
    assert [m.id for m in installed_models()] == ["cvssp/audioldm2"]
    assert main(["models", "list", "--json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["cvssp/audioldm2"]["installed"] and not rows["cvssp/audioldm2"]["incomplete"]
    assert not rows["cvssp/audioldm2-music"]["installed"]
    assert "vocoder/ weights" in rows["cvssp/audioldm2-music"]["incomplete"]
    assert main(["models", "list"]) == 0
    table = capsys.readouterr().out
    assert any(line.startswith("cvssp/audioldm2-music") and "incomplete" in line for line in table.splitlines())


def test_a_hub_cache_that_is_a_file_is_named(tmp_path, monkeypatch):
    import huggingface_hub.constants

    from core.models.store import installed_models

    a_file = tmp_path / "cache-file"
    a_file.write_text("x")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(a_file / "hub"))
    with pytest.raises(InputError, match="is a file, not a folder"):
        installed_models()
    with pytest.raises(InputError, match="is a file, not a folder"):
        resolve_model("cvssp/audioldm2")


def test_loa_speak_on_a_local_speech_folder_uses_the_speech_defaults(tiny_speech_model_dir, tiny_model_dir):
    from core.cli.common import common_request_fields
    from core.cli.main import build_parser

    parser = build_parser()
    speech = common_request_fields(parser.parse_args(["speak", "hi", "--model", str(tiny_speech_model_dir)]))
    assert (speech["steps"], speech["guidance"]) == (50, 5.0)
    chosen = common_request_fields(parser.parse_args(["speak", "hi", "--model", str(tiny_speech_model_dir),
                                                      "--steps", "7", "--guidance", "2"]))
    assert (chosen["steps"], chosen["guidance"]) == (7, 2.0)
    sound = common_request_fields(parser.parse_args(["generate", "rain", "--model", str(tiny_model_dir)]))
    assert (sound["steps"], sound["guidance"]) == (25, 3.5)
