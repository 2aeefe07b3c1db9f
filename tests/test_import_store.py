"""`audioldm_48k` in the store: downloaded from a fake hub on loopback (resumable, with progress), converted once,
listed with its rate, and resolved offline afterwards without converting again."""

from __future__ import annotations

import io
import json

import pytest
from fake_hub import FakeHub, Repo, point_client_at
from tiny_original_audioldm import build_tiny_checkpoint, save_tokenizer
from tqdm.auto import tqdm

from core.cli.main import main
from core.models.catalog import CATALOG
from core.models.imported import CLAP_TOKENIZER_REPO
from core.models.store import download_model, resolve_model

INFO = CATALOG["audioldm_48k"]


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> list[Repo]:
    root = tmp_path_factory.mktemp("hub48k")
    pth = build_tiny_checkpoint(root / INFO.hub_file)
    tokenizer = save_tokenizer(root / "tok")
    return [Repo(INFO.hub_repo, {INFO.hub_file: pth.read_bytes(), "README.md": b"# AudioLDM 48k (tiny)\n"}),
            Repo.from_folder(CLAP_TOKENIZER_REPO, tokenizer)]


@pytest.fixture
def hub(served, monkeypatch, hf_home):
    with FakeHub(served) as server:
        point_client_at(server, monkeypatch)
        yield server


def _cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_catalog_names_the_48k_model_with_its_source_rate_and_licence():
    assert (INFO.hub_repo, INFO.hub_file, INFO.sample_rate, INFO.task) == \
        ("haoheliu/audioldm_48k", "audioldm_48k.pth", 48_000, "sound")
    assert INFO.licence == "CC-BY-NC-SA-4.0" and INFO.size_estimated


def test_not_downloaded_it_says_how_to_get_it(capsys, tmp_path):
    code, _, err = _cli(capsys, "generate", "rain", "--model", "audioldm_48k", "-o", str(tmp_path / "a.wav"))
    assert code == 3 and "loa models download audioldm_48k" in err and len(err.strip().splitlines()) == 1


def test_download_resumes_converts_once_and_lists_it_at_48k(hub, served, capsys, monkeypatch):
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    hub.drop_once.add(INFO.hub_file)
    bars = []

    class Bar(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["file"] = io.StringIO()
            super().__init__(*args, **kwargs)
            bars.append(self)

    folder = download_model("audioldm_48k", tqdm_class=Bar)
    data = served[0].files[INFO.hub_file].data
    gets = [r for r in hub.file_gets() if r.resolved_file == INFO.hub_file]
    assert len(gets) == 2 and gets[0].range is None and 0 < int(gets[1].range[6:].rstrip("-")) < len(data)
    assert any(b.n == len(data) for b in bars), "byte progress did not reach the file's size"
    assert (folder / "model_index.json").is_file() and json.loads((folder / "model_index.json").read_text())[
        "_class_name"] == "AudioLDMPipeline"
    assert json.loads((folder / "vocoder" / "config.json").read_text())["sampling_rate"] == 48_000

    code, out, _ = _cli(capsys, "models", "list", "--json")
    row = next(r for r in json.loads(out) if r["id"] == "audioldm_48k")
    assert code == 0 and row["installed"] and row["converted"] and row["sample_rate"] == 48_000
    assert row["folder"] == str(folder) and row["installed_bytes"] == len(data)
    code, out, _ = _cli(capsys, "models", "list")
    line = next(x for x in out.splitlines() if x.startswith("audioldm_48k"))
    assert "48 kHz" in line and "CC-BY-NC-SA-4.0" in line
    assert "16 kHz" in next(x for x in out.splitlines() if x.startswith("cvssp/audioldm2 "))
    made = (folder / "model_index.json").stat().st_mtime_ns
    code, out, err = _cli(capsys, "models", "download", "audioldm_48k")  # again: nothing to fetch or convert
    assert code == 0 and out.strip() == str(folder), err

    hub.stop()  # offline from here: the converted copy is found without reading or converting the file
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    resolved = resolve_model("audioldm_48k")
    assert resolved.folder == folder and resolved.id == "audioldm_48k" and resolved.licence == "CC-BY-NC-SA-4.0"
    assert (folder / "model_index.json").stat().st_mtime_ns == made
    assert not list(folder.parent.glob(".*.partial"))
    take = folder.parent.parent / "take.flac"
    code, _, err = _cli(capsys, "generate", "rain on a roof", "--model", "audioldm_48k", "--seconds", "0.5",
                        "--steps", "2", "--candidates", "1", "--device", "cpu", "-o", str(take))
    import soundfile as sf

    assert code == 0, err
    assert (sf.info(take).samplerate, sf.info(take).frames) == (48_000, 24_000)
    assert (folder / "model_index.json").stat().st_mtime_ns == made


def test_a_hash_memo_that_cannot_be_written_costs_a_reread_not_the_checkpoint(tmp_path):
    """The content-hash memo is a cache: when it cannot be written (here a folder stands where the file goes, as a
    full or read-only disk would refuse it), the hash is still returned and nothing raises."""
    import hashlib

    from core.models.imported import content_hash, store_root

    checkpoint = tmp_path / "mine.pth"
    checkpoint.write_bytes(b"not read as a model here, only hashed" * 100)
    (store_root() / "hashes.json").mkdir(parents=True)
    assert content_hash(checkpoint) == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert content_hash(checkpoint, memo_only=True) is None  # nothing remembered, nothing broken


def test_a_mistyped_checkpoint_path_is_bad_input_in_one_line(tmp_path, capsys):
    """A .pth that is not there is a typing mistake (exit 2, 'no such checkpoint file'), not a model to install."""
    missing = tmp_path / "fine-tune.pth"
    code = main(["generate", "a dog", "--model", str(missing), "-o", str(tmp_path / "x.wav")])
    err = capsys.readouterr().err
    assert code == 2 and "No such checkpoint file" in err and "fine-tune.pth" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "x.wav").exists()
