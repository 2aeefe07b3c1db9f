"""`loa` commands that run no model never import torch: building the parser, --help, `models list`, `edit`.
Real processes (a fresh interpreter each, so nothing the test run imported counts), real files."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]

# Runs core.cli.main.main(ARGV) in this interpreter, then prints on the last line of stdout whether torch (and
# the model libraries) were imported.
RUN_MAIN = """
import json, sys
from core.cli.main import main
try:
    code = main(json.loads(sys.argv[1]))
except SystemExit as exc:  # --help exits through argparse
    code = exc.code
sys.stdout.flush()
print(json.dumps({"code": code, "imported": sorted(m for m in ("torch", "diffusers", "transformers") if m in sys.modules)}))
"""


def run_loa(argv: list[str], cwd: Path) -> tuple[dict, str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", HF_HOME=str(cwd / "empty-hf-home"),
               COLUMNS="200")  # help lines unwrapped
    proc = subprocess.run([sys.executable, "-c", RUN_MAIN, json.dumps(argv)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    *printed, last = proc.stdout.rstrip("\n").split("\n")
    return json.loads(last), "\n".join(printed), proc.stderr


def test_building_the_parser_imports_no_model_library(tmp_path):
    code = ("import sys; from core.cli.main import build_parser; build_parser(); "
            "print([m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO)),
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("argv, expected", [
    (["--help"], "generate"),
    (["edit", "--help"], "--normalize-loudness"),
    (["generate", "--help"], "--bars"),  # the generating commands' help still shows their model defaults
    (["speak", "--help"], "a clear voice speaking in a quiet studio"),
    (["transform", "--help"], "default 0.5"),
    (["models", "list"], "cvssp/audioldm2"),
])
def test_commands_without_a_model_do_not_import_torch(tmp_path, argv, expected):
    result, out, err = run_loa(argv, tmp_path)
    assert result == {"code": 0, "imported": []}, err
    assert expected in out


def test_edit_measure_does_not_import_torch(tmp_path):
    rate = 48000
    tone = 0.25 * np.sin(2 * np.pi * 1000 * np.arange(rate) / rate)
    sf.write(tmp_path / "tone.wav", tone, rate, subtype="PCM_24")
    result, out, err = run_loa(["edit", "tone.wav", "--measure", "--json"], tmp_path)
    assert result == {"code": 0, "imported": []}, err
    assert json.loads(out)["true_peak_dbtp"] == pytest.approx(-12.0, abs=0.1)


def test_bad_input_still_exits_2_without_the_model_libraries(tmp_path):
    result, _, err = run_loa(["edit", "missing.wav", "--measure"], tmp_path)
    assert result == {"code": 2, "imported": []}
    assert err.strip() == "loa: error: missing.wav: Audio file not found: missing.wav"


def test_generating_command_reaches_the_model_check_with_torch(tmp_path):
    result, _, err = run_loa(["generate", "rain", "--model", str(tmp_path / "no-model"), "-o", "out.wav"], tmp_path)
    assert result["code"] == 3 and "torch" in result["imported"], err
    assert err.startswith("loa: error: Model folder not found") and err.count("\n") == 1


QUIET_LOAD = """
import sys, warnings
from pathlib import Path
import torch
{early}
from core.quiet import quiet_libraries
quiet_libraries()
assert not any(type(f).__module__ == "core.quiet" for f in sys.meta_path)  # no import hook
from core.models.loading import load_pipeline
load_pipeline(Path(sys.argv[1]), torch.device("cpu"), torch.float32)
from diffusers.utils import logging as d
from transformers.utils import logging as t
print(d.get_verbosity(), t.get_verbosity(), d.is_progress_bar_enabled(), t.is_progress_bar_enabled())
warnings.warn("the application's own deprecation note", FutureWarning)
"""


@pytest.mark.parametrize("early", ["", "import diffusers, transformers"])
def test_a_front_ends_quiet_reaches_the_model_libraries_where_the_pipeline_loads(tiny_model_dir, early):
    """No import hook: the libraries' environment defaults, and their verbosity setters where the pipeline is
    loaded (also when they were imported before the front end asked for quiet). No load bar reaches the
    terminal, and the application's own FutureWarnings still do."""
    out = subprocess.run([sys.executable, "-c", QUIET_LOAD.format(early=early), str(tiny_model_dir)],
                         env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(logging.ERROR), str(logging.ERROR), "False", "False"]
    assert "Loading" not in out.stderr and "%|" not in out.stderr
    assert "the application's own deprecation note" in out.stderr


@pytest.mark.parametrize("argv", [["models", "list"], ["models", "list", "--json"]])
def test_a_reader_that_stops_early_is_not_an_error(tmp_path, argv):
    """`loa models list | head -1`: the reader goes away before the list is printed (`true` reads nothing and has
    exited by the time Python starts writing); no BrokenPipeError, exit 0."""
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", HF_HOME=str(tmp_path / "empty-hf-home"))
    code = f"import sys; from core.cli.main import main; sys.exit(main({argv!r}))"
    shell = f"{sys.executable} -c \"{code}\" | true; exit ${{PIPESTATUS[0]}}"
    proc = subprocess.run(["bash", "-c", shell], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "BrokenPipe" not in proc.stderr and "Traceback" not in proc.stderr
