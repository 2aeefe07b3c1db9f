"""Shared fixtures: tiny AudioLDM 2 pipelines on disk, isolated user folders, offline hub."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# Nothing in the test run may reach the hub; the app's own folders point at tmp.
os.environ["HF_HUB_OFFLINE"] = "1"
# Offscreen Qt with a 1920x1080 screen, the display tier's Xvfb size (offscreen's own is 800x800, and the window
# fits its first size to the screen: studio.shell.window_layout.resize_to_screen).
os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={Path(__file__).parent / 'offscreen_screen.json'}")
# Compiled bucket graphs cost minutes of compiling per shape: tests run eager unless they ask (test_fast_path).
os.environ.setdefault("LOA_COMPILE", "off")

REPO = Path(__file__).resolve().parents[1]
from audio_corpus import corpus_files as _find_corpus_files  # noqa: E402

from core import gc_policy  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny models are bound by kernel launches, not arithmetic: one thread is faster, above all on a busy CPU
    (the speech models' 512-step language-model rollout took 5 s with one thread and 57 s with two)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _garbage_collected_on_the_main_thread():
    """The app's policy (core.gc_policy): a job thread must never run the cycle collector while dead widgets
    await it, or their Qt objects die off the GUI thread (a segfault in CI). Automatic collection is off during
    each test, and the main thread collects what the thresholds say is due after it, as the window's GUI-thread
    timer does; model loads freeze what is alive (core.generation.engine), as in the app."""
    enabled = gc.isenabled()
    gc_policy.take_over()
    yield
    gc_policy.collect_due()
    if enabled:
        gc.enable()


@pytest.fixture(autouse=True)
def _isolated_user_folders(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    # huggingface_hub reads HF_HOME once at import; point its cache at this test's folder too.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    monkeypatch.setenv("LOA_DATA_DIR", str(tmp_path / "loa-data"))
    monkeypatch.setenv("LOA_CONFIG_DIR", str(tmp_path / "loa-config"))
    monkeypatch.setenv("LOA_CACHE_DIR", str(tmp_path / "loa-cache"))
    monkeypatch.setenv("LOA_PRECISION", "auto")  # the window's Compute menu writes it; undone after each test
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", "")  # compiled graphs cache under this test's LOA_CACHE_DIR


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny text-to-audio pipeline saved in the official layout (GPT2Model, float64 CLAP config)."""
    from tiny_pipeline import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("models") / "tiny-audioldm2")


@pytest.fixture(scope="session")
def tiny_speech_model_dir(tmp_path_factory) -> Path:
    """A tiny text-to-speech pipeline (VitsModel / VitsTokenizer) in the official layout."""
    from tiny_pipeline import build_tiny_pipeline

    return build_tiny_pipeline(tmp_path_factory.mktemp("models") / "tiny-audioldm2-speech", speech=True)


@pytest.fixture(scope="session")
def tiny_48k_model(tmp_path_factory) -> Path:
    """A tiny 48 kHz AudioLDM model as users get one: an original-format checkpoint (tests/tiny_original_audioldm.py:
    the AudioLDM 2 repository's key names and audioldm_48k geometry, 256 mel bins, hop 480, 16 latent channels, FiLM
    on a 512-d CLAP text embedding, tiny widths) converted by the importer through the very function `--model x.pth`
    uses (core.models.store.resolve_model), once per session. Returns the converted diffusers folder; `--model <this
    folder>` names it; tests that want it under a hub id install it with hf_cache.install_into_cache."""
    import huggingface_hub.constants
    from hf_cache import install_into_cache
    from tiny_original_audioldm import build_tiny_checkpoint, save_tokenizer

    from core.models.imported import CLAP_TOKENIZER_REPO
    from core.models.store import resolve_model

    root = tmp_path_factory.mktemp("models-48k")
    # the window's picker names the converted folder after this file: "tiny-audioldm-48k.pth (converted)"
    checkpoint = build_tiny_checkpoint(root / "tiny-audioldm-48k.pth")
    hf_home = root / "hf-home"  # the CLAP tokenizer cached, as on a machine that fetched it once
    install_into_cache(save_tokenizer(root / "clap-tokenizer"), CLAP_TOKENIZER_REPO, hf_home)
    with pytest.MonkeyPatch.context() as patch:  # the session's own store, outliving any one test's folders
        patch.setenv("HF_HOME", str(hf_home))
        patch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hf_home / "hub"))
        patch.setenv("LOA_DATA_DIR", str(root / "loa-data"))
        return resolve_model(str(checkpoint)).folder


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_dir):
    """One resident engine on the tiny model, shared across tests like the app shares one."""
    from core.generation.engine import Engine

    return Engine(tiny_model_dir, device="cpu")


@pytest.fixture(scope="session")
def tiny_speech_engine(tiny_speech_model_dir):
    from core.generation.engine import Engine

    return Engine(tiny_speech_model_dir, device="cpu")


@pytest.fixture
def hf_home(tmp_path) -> Path:
    """This test's HF_HOME (its hub cache is HF_HOME/hub)."""
    return tmp_path / "hf-home"


@pytest.fixture(scope="session")
def official_configs() -> Path:
    """The official model_index.json and component configs, copied into the project."""
    return REPO / "resources" / "official-configs"


@pytest.fixture(scope="session")
def corpus_files(tmp_path_factory) -> list[Path]:
    """Real recordings from Debian packages (see tests/audio_corpus.py), under their corpus names."""
    return _find_corpus_files(tmp_path_factory.mktemp("audio-corpus"))


@pytest.fixture(autouse=True, scope="session")
def _empty_clipboard_at_exit():
    """Offscreen Qt segfaults at interpreter exit while the clipboard holds QMimeData (Copy to clipboard tests)."""
    yield
    if "PySide6.QtGui" in sys.modules:
        from PySide6.QtGui import QGuiApplication

        if QGuiApplication.instance() is not None:
            QGuiApplication.clipboard().clear()


@pytest.fixture
def without_sound_server(tmp_path):
    """PortAudio sees no sound server during this test, for real, even where .ci/run started PulseAudio:
    PulseAudio clients are pointed at a socket that does not exist and devices are re-scanned (again afterwards).
    Request it in tests of the no-audio-device path."""
    from core.devices.playback import PlaybackUnavailable, refresh_devices

    def rescan():
        try:
            refresh_devices()
        except PlaybackUnavailable:
            pass  # no PortAudio at all: nothing to re-scan

    runtime = tmp_path / "no-sound-runtime"
    runtime.mkdir(mode=0o700)
    with pytest.MonkeyPatch.context() as patch:  # its own patch: undoing it leaves the test's folders alone
        patch.setenv("PULSE_SERVER", "unix:/nonexistent/pulse/native")
        patch.setenv("XDG_RUNTIME_DIR", str(runtime))
        patch.setenv("JACK_NO_START_SERVER", "1")  # and no JACK server either (one may run beside the tests)
        patch.setenv("JACK_DEFAULT_SERVER", "loa-test-no-such-server")
        rescan()
        yield
    rescan()


UNANSWERED_DIALOG_SECONDS = 60


@pytest.fixture(autouse=True)
def _unanswered_dialog_watchdog(request):
    """A modal dialog nobody answers (say, "unsaved edits?" while a window closes in teardown) would block the run
    for ever: pytest-timeout cannot interrupt Qt's nested event loop. Reject it after a minute and fail the test."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("qapp")
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    opened_at: dict[int, float] = {}
    stuck: list[str] = []

    def check() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None:
            opened_at.clear()
            return
        if time.monotonic() - opened_at.setdefault(id(modal), time.monotonic()) > UNANSWERED_DIALOG_SECONDS:
            stuck.append(modal.windowTitle() or type(modal).__name__)
            modal.reject() if hasattr(modal, "reject") else modal.close()

    timer = QTimer()
    timer.timeout.connect(check)
    timer.start(1000)
    yield
    timer.stop()
    if stuck:
        pytest.fail(f"a modal dialog was left unanswered for {UNANSWERED_DIALOG_SECONDS} s: {', '.join(stuck)}")


@pytest.fixture(autouse=True)
def _away_from_jack(request, monkeypatch):
    """Only tests marked `jack` may reach the JACK server .ci/run starts. Every window opens a JACK MIDI client
    that lives until Qt deletes the window, and a test run makes hundreds of windows: left to reach the server,
    they used up its client slots and the MIDI tests later found no server answering."""
    if request.node.get_closest_marker("jack") is None:
        monkeypatch.setenv("JACK_DEFAULT_SERVER", "loa-tests-not-marked-jack")
        monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    yield
