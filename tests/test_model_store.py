import json
import shutil

import pytest
from hf_cache import install_into_cache

from core.errors import InputError, ModelNotAvailable
from core.models.catalog import CATALOG
from core.models.store import check_model_folder, files_to_download, installed_models, resolve_model


def test_the_tiny_folder_keeps_the_official_quirks(tiny_model_dir):
    index = json.loads((tiny_model_dir / "model_index.json").read_text())
    assert index["language_model"] == ["transformers", "GPT2Model"]
    assert json.loads((tiny_model_dir / "text_encoder" / "config.json").read_text())["torch_dtype"] == "float64"


def test_the_tiny_folder_has_the_official_component_layout(tiny_model_dir, official_configs):
    ours = json.loads((tiny_model_dir / "model_index.json").read_text())
    official = json.loads((official_configs / "audioldm2" / "model_index.json").read_text())
    assert {k: v for k, v in ours.items() if not k.startswith("_")} == \
        {k: v for k, v in official.items() if not k.startswith("_")}


def test_a_local_folder_resolves_to_itself(tiny_model_dir):
    resolved = resolve_model(str(tiny_model_dir))
    assert resolved.folder == tiny_model_dir.resolve()


def test_a_hub_id_resolves_through_the_hugging_face_cache(tiny_model_dir, hf_home):
    snapshot = install_into_cache(tiny_model_dir, "cvssp/audioldm2", hf_home)
    resolved = resolve_model("cvssp/audioldm2")
    assert resolved.folder == snapshot
    assert resolved.licence == CATALOG["cvssp/audioldm2"].licence
    assert [m.id for m in installed_models()] == ["cvssp/audioldm2"]


def test_a_missing_hub_model_says_how_to_get_it():
    with pytest.raises(ModelNotAvailable) as info:
        resolve_model("cvssp/audioldm2-music")
    message = str(info.value)
    assert "loa models download cvssp/audioldm2-music" in message and "--model" in message and "GB" in message


def test_nonsense_model_names_are_bad_input():
    with pytest.raises(InputError, match="Unknown model"):
        resolve_model("audioldm")


@pytest.mark.parametrize("damage, named", [
    (lambda d: (d / "unet" / "diffusion_pytorch_model.safetensors").unlink(), "unet/ weights"),
    (lambda d: shutil.rmtree(d / "vocoder"), "vocoder/"),
    (lambda d: (d / "scheduler" / "scheduler_config.json").unlink(), "scheduler/scheduler_config.json"),
    (lambda d: (d / "model_index.json").unlink(), "model_index.json is missing"),
])
def test_a_broken_folder_names_what_is_missing(tiny_model_dir, tmp_path, damage, named):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    damage(broken)
    with pytest.raises(ModelNotAvailable) as info:
        check_model_folder(broken)
    assert named in str(info.value)


def test_a_folder_of_another_pipeline_is_refused(tiny_model_dir, tmp_path):
    other = tmp_path / "sd"
    shutil.copytree(tiny_model_dir, other)
    index = json.loads((other / "model_index.json").read_text())
    index["_class_name"] = "StableDiffusionPipeline"
    (other / "model_index.json").write_text(json.dumps(index))
    with pytest.raises(ModelNotAvailable, match="not an AudioLDM 2 pipeline"):
        check_model_folder(other)


def test_download_picks_safetensors_over_bin_and_keeps_configs():
    files = ["model_index.json", "README.md", "unet/config.json", "unet/diffusion_pytorch_model.bin",
             "unet/diffusion_pytorch_model.safetensors", "vocoder/config.json", "vocoder/pytorch_model.bin",
             "tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer_2/spiece.model", ".gitattributes",
             "unet/diffusion_pytorch_model.fp16.safetensors"]
    chosen = files_to_download(files)
    assert "unet/diffusion_pytorch_model.safetensors" in chosen
    assert "unet/diffusion_pytorch_model.bin" not in chosen
    assert "unet/diffusion_pytorch_model.fp16.safetensors" not in chosen
    assert "vocoder/pytorch_model.bin" in chosen  # no safetensors there: fall back to .bin
    assert {"model_index.json", "tokenizer/merges.txt", "tokenizer_2/spiece.model", "README.md"} <= set(chosen)
    assert ".gitattributes" not in chosen
