"""The app's writers go through core.fileio: on a real full disk (64 KB tmpfs, root only) nothing is lost."""


import numpy as np
import pytest
from small_disks import fill, mounted_tmpfs

from core.audio.clip import Clip
from core.output_checks import OutputError


@pytest.fixture
def tiny_disk(tmp_path):
    with mounted_tmpfs(tmp_path / "disk") as folder:
        yield folder


def test_user_presets_survive_a_full_disk(tiny_disk, monkeypatch):
    from core.generation.presets import Preset, save_user_preset, user_presets

    monkeypatch.setenv("LOA_CONFIG_DIR", str(tiny_disk))
    save_user_preset(Preset(name="mine", mode="sound", prompt="rain"))
    before = (tiny_disk / "user-presets.json").read_bytes()
    fill(tiny_disk)
    with pytest.raises(OutputError, match="no space left on device writing .*user-presets.json; nothing was"):
        save_user_preset(Preset(name="another " * 200, mode="sound", prompt="wind " * 400))
    assert (tiny_disk / "user-presets.json").read_bytes() == before
    assert [p.name for p in user_presets()] == ["mine"]
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["ballast", "user-presets.json"]


def test_library_add_on_a_full_disk_adds_nothing_and_leaves_no_file(tiny_disk):
    from core.library.store import Library

    library = Library(tiny_disk)
    try:
        clip = Clip(np.zeros(16_000, np.float32), 16_000)  # 64 KB of float samples: more than is left
        fill(tiny_disk, leave=8192)
        with pytest.raises(OutputError, match="no space left on device"):
            library.add(clip, prompt="rain", mode="sound", model="m", licence="l", seed=1)
        assert library.count() == 0
        audio = tiny_disk / "audio"
        assert not audio.exists() or not [p for p in audio.rglob("*") if p.is_file()]
    finally:
        library.close()


def test_library_and_export_never_land_on_an_existing_sidecar(tmp_path):
    from core.audio.formats.export import ExportSettings, export_clip
    from core.audio.provenance import Provenance
    from core.library.store import Library

    clip = Clip(np.zeros(1600, np.float32), 16_000)
    library = Library(tmp_path / "lib")
    try:
        first = library.add(clip, prompt="rain", mode="sound", model="m", licence="l", seed=1)
        orphan = first.audio_path.with_name(first.audio_path.stem + "-2.wav.json")
        orphan.write_text("someone's notes")
        first.audio_path.unlink()  # only the sidecar of the first name is left, plus the orphan of -2
        second = library.add(clip, prompt="rain", mode="sound", model="m", licence="l", seed=1)
        assert second.audio_path.name not in (first.audio_path.name, orphan.name[:-5])
        assert orphan.read_text() == "someone's notes"
    finally:
        library.close()
    out = tmp_path / "out"
    out.mkdir()
    provenance = Provenance(prompt="rain", model_id="m", licence="l", seed=1)
    (out / "rain_s1.wav.json").write_text("notes")
    path = export_clip(clip, provenance, ExportSettings(), out)
    assert path.name == "rain_s1-2.wav" and (out / "rain_s1.wav.json").read_text() == "notes"
