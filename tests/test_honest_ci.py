"""Contracts that keep CI honest: core never imports the GUI, and a service tier that did not start fails a CI
run instead of skipping (tests/audio_services.py, tests/midi_services.py)."""

import ast
from pathlib import Path

import audio_services
import midi_services
import pytest

ROOT = Path(__file__).resolve().parents[1]
GUI_PACKAGES = {"PySide6", "pyqtgraph", "studio"}


def imported_modules(tree: ast.AST) -> list[str]:
    """Every module an import statement anywhere in `tree` names (functions and try blocks included)."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
            names.append(str(node.args[0].value))
    return names


def test_nothing_under_core_imports_qt_pyqtgraph_or_studio():
    offenders = []
    files = sorted((ROOT / "core").rglob("*.py"))
    assert len(files) > 50  # the whole library, not an empty glob
    for path in files:
        for module in imported_modules(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if module.split(".")[0] in GUI_PACKAGES:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def test_the_contract_check_sees_imports_wherever_they_are():
    tree = ast.parse("def f():\n    try:\n        from PySide6.QtCore import QObject\n    except ImportError:\n"
                     "        pass\nimport importlib\nimportlib.import_module('studio.app')\nimport pyqtgraph as pg\n")
    assert {m.split(".")[0] for m in imported_modules(tree)} >= GUI_PACKAGES


def outcome_of(require) -> BaseException:
    """What a tier's guard raised (pytest's skip and fail are BaseExceptions, so neither ends this test)."""
    with pytest.raises(BaseException) as caught:
        require()
    return caught.value


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_display_tier_without_its_server_fails_under_ci_and_skips_elsewhere(monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    monkeypatch.delenv("DISPLAY", raising=False)
    assert type(outcome_of(audio_services.require_display)) is (pytest.fail.Exception if ci else pytest.skip.Exception)


@pytest.mark.parametrize("ci", ["true", ""])
def test_audio_and_jack_tiers_without_their_servers_fail_under_ci_and_skip_elsewhere(monkeypatch, ci, tmp_path):
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # no PulseAudio socket here
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/none")
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "loa-no-such-server")
    expected = pytest.fail.Exception if ci else pytest.skip.Exception
    assert type(outcome_of(audio_services.require_pulse)) is expected
    assert type(outcome_of(midi_services.require_jack)) is expected


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_missing_optional_package_fails_under_ci_and_skips_elsewhere(monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    guard = lambda: audio_services.require_module("loa_no_such_package", "the cluster extra is not installed")  # noqa: E731
    assert type(outcome_of(guard)) is (pytest.fail.Exception if ci else pytest.skip.Exception)
    assert audio_services.require_module("json", "stdlib").dumps([1]) == "[1]"


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_missing_reference_tool_fails_under_ci_and_skips_elsewhere(monkeypatch, ci, tmp_path):
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no sox, no ffmpeg
    failure = outcome_of(lambda: audio_services.require_tools("ffmpeg", "sox"))
    assert type(failure) is (pytest.fail.Exception if ci else pytest.skip.Exception)
    assert "ffmpeg and sox not installed (apt install ffmpeg sox)" in str(failure)
    (tmp_path / "sox").write_text("#!/bin/sh\n")
    (tmp_path / "sox").chmod(0o755)
    assert audio_services.require_tools("sox") is None


def test_no_test_skips_for_a_missing_tool_with_a_skipif():
    """Reference tools (sox, ffmpeg) are asked for with audio_services.require_tools, which fails under CI=true;
    a skipif on shutil.which would skip there too."""
    offenders = [f"{path.relative_to(ROOT)}:{number}" for path in sorted((ROOT / "tests").rglob("*.py"))
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if "skipif(" + "shutil.which" in line.replace(" ", "")]  # split: not a hit on itself
    assert offenders == []


def test_no_test_skips_for_a_missing_package_with_importorskip():
    """importorskip skips even under CI=true; an optional package is asked for with audio_services.require_module."""
    offenders = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in sorted((ROOT / "tests").rglob("*.py"))
                 for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.Attribute) and node.attr == "importorskip"]
    assert offenders == []
