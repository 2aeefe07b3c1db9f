"""`loa models download` end to end against a fake hub on loopback (tests/fake_hub.py).

The real huggingface_hub client does the work: listing, HEAD for metadata, GET with Range on a
dropped connection, the cache layout. Only the endpoint it talks to is local.
"""

from __future__ import annotations

import io
import json
import types

import numpy as np
import pytest
from fake_hub import FakeHub, Repo, point_client_at
from tqdm.auto import tqdm

from core.cli.main import main
from core.errors import Cancelled, ModelNotAvailable
from core.generation.engine import Engine
from core.generation.requests import GenerationRequest
from core.models.store import download_model, files_to_download, resolve_model

REPO_ID = "cvssp/audioldm2"
BIN_TWIN = "unet/diffusion_pytorch_model.bin"
FP16_TWIN = "vae/diffusion_pytorch_model.fp16.safetensors"
BIG_FILE = "unet/diffusion_pytorch_model.safetensors"
CARD = b"---\nlicense: cc-by-nc-sa-4.0\ntags:\n- text-to-audio\n---\n# tiny AudioLDM 2 for tests\n"


@pytest.fixture(scope="module")
def served_repo(tiny_model_dir) -> Repo:
    """The tiny pipeline as the hub holds a real one: both weight formats, a card, git metadata."""
    extra = {BIN_TWIN: b"\x80\x02 a pickle that must never be fetched" * 64, FP16_TWIN: b"half" * 256,
             ".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n", "README.md": CARD}
    return Repo.from_folder(REPO_ID, tiny_model_dir, extra)


@pytest.fixture
def chosen(served_repo) -> list[str]:
    return files_to_download(served_repo.files)


@pytest.fixture
def hub(served_repo, monkeypatch):
    """A running fake hub that huggingface_hub talks to, online, over plain HTTP (no xet)."""
    with FakeHub([served_repo]) as server:
        point_client_at(server, monkeypatch)
        yield server


@pytest.fixture
def backoff_waits(monkeypatch) -> list[float]:
    """Record huggingface_hub's retry waits instead of sleeping them (1+2+4+8+8 s per failing call)."""
    import huggingface_hub.utils._http as hf_http

    waits: list[float] = []
    monkeypatch.setattr(hf_http, "time", types.SimpleNamespace(sleep=waits.append))
    return waits


def recording_bar_class(bars: list):
    class RecordingBar(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["file"] = io.StringIO()  # a real bar, drawn where the test can't see it
            self.unit_name = kwargs.get("unit", "it")
            self.updates: list[float] = []
            super().__init__(*args, **kwargs)
            bars.append(self)

        def update(self, n=1):
            self.updates.append(n)
            return super().update(n)

    return RecordingBar


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_downloaded_model_resolves_and_generates_offline(hub, served_repo, chosen, hf_home):
    folder = download_model(REPO_ID)

    assert folder == hf_home / "hub" / "models--cvssp--audioldm2" / "snapshots" / served_repo.commit
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == chosen
    assert all((folder / name).read_bytes() == served_repo.files[name].data for name in chosen)
    hub.stop()  # from here on nothing may need the network
    resolved = resolve_model(REPO_ID)
    assert resolved.folder == folder
    engine = Engine(REPO_ID, device="cpu")
    clip = engine.generate(GenerationRequest("rain on a tin roof", seconds=0.5, steps=2, seed=4)).candidates[0].clip
    assert (clip.sample_rate, clip.frames) == (16_000, 8_000)
    assert np.isfinite(clip.samples).all() and np.abs(clip.samples).max() > 0


def test_only_the_chosen_files_are_fetched(hub, chosen):
    download_model(REPO_ID)

    fetched = [r.resolved_file for r in hub.file_gets()]
    assert sorted(fetched) == chosen  # each once
    assert not {BIN_TWIN, FP16_TWIN, ".gitattributes"} & set(fetched)
    assert BIG_FILE in fetched and "README.md" in fetched
    listings = [r for r in hub.requests if "/tree/" in r.path]
    assert any("cursor" in r.query for r in listings), "the listing should have followed a next page"


def test_a_progress_class_receives_every_byte(hub, served_repo, chosen):
    bars: list = []
    download_model(REPO_ID, tqdm_class=recording_bar_class(bars))

    expected = sum(len(served_repo.files[name].data) for name in chosen)
    byte_bars = [b for b in bars if b.unit_name == "B"]
    assert byte_bars, "no byte progress bar was created"
    assert any(b.n == expected and b.total == expected and len(b.updates) >= len(chosen) for b in byte_bars)
    file_bars = [b for b in bars if b.unit_name != "B"]
    assert any(b.n == len(chosen) for b in file_bars)


def test_a_dropped_connection_resumes_with_a_range_request(hub, served_repo, chosen, monkeypatch):
    import huggingface_hub.constants as hf_constants

    # The client writes whole chunks (10 MB by default); small ones let a tiny file resume mid-way.
    monkeypatch.setattr(hf_constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    hub.drop_once.add(BIG_FILE)
    bars: list = []
    folder = download_model(REPO_ID, tqdm_class=recording_bar_class(bars))

    data = served_repo.files[BIG_FILE].data
    assert (folder / BIG_FILE).read_bytes() == data
    gets = [r for r in hub.file_gets() if r.resolved_file == BIG_FILE]
    assert len(gets) == 2 and gets[0].range is None
    resumed_at = int(gets[1].range.removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at < len(data)
    expected = sum(len(served_repo.files[name].data) for name in chosen)
    assert any(b.n == expected for b in bars if b.unit_name == "B"), "resumed bytes were counted twice"


def test_an_interrupted_download_completes_on_the_next_call_fetching_only_what_is_missing(hub, chosen):
    hub.fail_get_once.add(BIG_FILE)
    with pytest.raises(ModelNotAvailable, match="again"):
        download_model(REPO_ID)
    with pytest.raises(ModelNotAvailable):
        resolve_model(REPO_ID)
    first_call = [r.resolved_file for r in hub.file_gets()]
    finished_first = set(first_call) - {BIG_FILE}
    assert finished_first, "nothing finished before the failure; the test shows nothing"

    folder = download_model(REPO_ID)

    second_call = [r.resolved_file for r in hub.file_gets()][len(first_call):]
    assert sorted(second_call) == sorted(set(chosen) - finished_first)
    assert resolve_model(REPO_ID).folder == folder


def test_cancelling_from_the_progress_class_stops_and_the_next_call_completes(hub, served_repo, chosen):
    class CancellingBar(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            raise Cancelled("download cancelled")

    with pytest.raises(Cancelled):
        download_model(REPO_ID, tqdm_class=CancellingBar)
    folder = download_model(REPO_ID)
    assert all((folder / name).read_bytes() == served_repo.files[name].data for name in chosen)


def test_a_stale_partial_blob_does_not_corrupt_the_download(hub, served_repo, hf_home):
    big = served_repo.files[BIG_FILE]
    blobs = hf_home / "hub" / "models--cvssp--audioldm2" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{big.etag}.incomplete").write_bytes(big.data[: len(big.data) // 3])

    folder = download_model(REPO_ID)

    assert (folder / BIG_FILE).read_bytes() == big.data


def test_cli_download_prints_the_folder(hub, served_repo, capsys):
    code, out, err = run_cli(capsys, "models", "download", REPO_ID)
    assert code == 0, err
    assert out.strip() == str(resolve_model(REPO_ID).folder)
    assert out.strip().endswith(served_repo.commit)
    code, out, _ = run_cli(capsys, "models", "list", "--json")
    row = next(r for r in json.loads(out) if r["id"] == REPO_ID)
    assert code == 0 and row["installed"] and row["folder"].endswith(served_repo.commit)


def test_cli_download_shows_byte_progress_on_a_terminal(hub, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    code, out, _ = run_cli(capsys, "models", "download", REPO_ID)
    assert code == 0, terminal.getvalue()
    drawn = terminal.getvalue()
    assert "100%" in drawn and "MB" in drawn, drawn


def test_cli_unknown_model_exits_2_with_one_line(hub, capsys):
    code, out, err = run_cli(capsys, "models", "download", "nobody/no-such-model")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "No model nobody/no-such-model" in err


def test_cli_gated_model_exits_3_and_says_how_to_get_access(hub, capsys):
    hub.gated.add(REPO_ID)
    code, _, err = run_cli(capsys, "models", "download", REPO_ID)
    assert code == 3 and err.count("\n") == 1
    assert "gated" in err and "hf auth login" in err


def test_cli_server_error_exits_3_after_retrying(hub, capsys, backoff_waits):
    hub.fail_all_with = 500
    code, _, err = run_cli(capsys, "models", "download", REPO_ID)
    assert code == 3 and err.count("\n") == 1
    assert "500" in err and f"loa models download {REPO_ID}" in err
    assert len(hub.requests) > 1 and backoff_waits, "the client should have retried"


def test_cli_unreachable_hub_exits_3_with_one_line(hub, capsys, backoff_waits):
    hub.stop()
    code, _, err = run_cli(capsys, "models", "download", REPO_ID)
    assert code == 3 and err.count("\n") == 1, err
    assert "Cannot download cvssp/audioldm2" in err and "network" in err


def test_cli_offline_mode_exits_3_and_names_the_setting(capsys):
    # conftest sets HF_HUB_OFFLINE=1 for the run; no hub fixture here.
    code, _, err = run_cli(capsys, "models", "download", REPO_ID)
    assert code == 3 and "HF_HUB_OFFLINE" in err and err.count("\n") == 1
