"""One tempo range for every --bpm (core.tempo.bars.MIN_BPM..MAX_BPM), checked before any model loads, and
counted nouns in the batch messages ("1 bad row", "2 bad rows")."""

import numpy as np
import pytest
import soundfile as sf

from core.cli.main import main
from core.tempo.bars import MAX_BPM, MIN_BPM
from core.wording import counted

NO_MODEL = ["--model", "/nonexistent/model-folder"]  # reaching the model would exit 3, not 2


@pytest.fixture
def loop_file(tmp_path):
    rate = 16_000
    t = np.arange(2 * rate) / rate
    audio = (0.3 * np.sin(2 * np.pi * 110 * t) * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32)
    path = tmp_path / "beat.wav"
    sf.write(path, audio, rate)
    return path


def one_line_error(capsys, argv) -> str:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (code, err)
    return err.strip()


@pytest.mark.parametrize("bpm", ["19.9", "400.5", "nan", "-120"])
def test_generate_and_loop_refuse_the_same_tempi_with_the_same_line(loop_file, capsys, bpm):
    generate = one_line_error(capsys, ["generate", "techno", "--bars", "2", "--bpm", bpm, *NO_MODEL])
    loop = one_line_error(capsys, ["loop", loop_file, "--extend-bars", "2", "--bpm", bpm, *NO_MODEL])
    assert generate == loop == f"loa: error: tempo must be a number from 20 to 400 BPM (got {float(bpm):g})."


def test_the_range_edges_pass_the_checks_on_both_commands(loop_file, capsys):
    """20 and 400 BPM get past every tempo check: what stops them is the missing model (exit 3)."""
    assert (MIN_BPM, MAX_BPM) == (20.0, 400.0)
    for bpm in ("20", "400", "350"):  # loop refused 350 before the ranges were made one
        assert main(["generate", "techno", "--bars", "1", "--bpm", bpm, *NO_MODEL]) == 3
        assert main(["loop", str(loop_file), "--extend-bars", "1", "--bpm", bpm, *NO_MODEL]) == 3
    assert "tempo must be" not in capsys.readouterr().err


def test_loop_checks_bars_before_the_model_and_refuses_bpm_with_close(loop_file, capsys):
    err = one_line_error(capsys, ["loop", loop_file, "--extend-bars", "0", *NO_MODEL])
    assert err == "loa: error: bars must be a whole number from 1 to 64 (got 0)."
    err = one_line_error(capsys, ["loop", loop_file, "--close", "--bpm", "120", *NO_MODEL])
    assert "--bpm sets the tempo for --extend-bars" in err


def test_help_states_the_tempo_range(capsys):
    for command in ("generate", "loop"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "20-400" in capsys.readouterr().out.replace("\n", " ")


def test_batch_rows_use_the_same_range_and_count_their_bad_rows(tiny_model_dir, tmp_path, capsys):
    jobs = tmp_path / "sheet.csv"
    jobs.write_text("prompt,bars,bpm\nrain,2,410\nwind,2,20\n")
    assert main(["batch", str(jobs), "--out", str(tmp_path / "out"), "--model", str(tiny_model_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "line 2" in err[0] and "from 20 to 400 BPM (got 410)" in err[0]
    assert err[1].startswith(f"loa: error: 1 bad row in {jobs}; nothing was rendered")


@pytest.mark.parametrize("count, noun, text", [(0, "file", "0 files"), (1, "file", "1 file"),
                                               (2, "bad row", "2 bad rows"), (1, "bad row", "1 bad row")])
def test_counted_nouns(count, noun, text):
    assert counted(count, noun) == text


def test_the_windows_tempo_fields_take_the_same_range(qtbot, tmp_path):
    """The editor's extend-by-bars dialog and the count-in tempo allow what the CLI allows, no more, no less."""
    from PySide6.QtWidgets import QDoubleSpinBox

    from studio.editor.dialogs import generative_dialog
    from studio.shell.settings import StudioSettings

    dialog = generative_dialog("Extend loop", None, bars=True)
    qtbot.addWidget(dialog)
    bpm = dialog.findChild(QDoubleSpinBox, "bpm")
    bpm.setValue(350.0)
    assert bpm.maximum() == MAX_BPM and dialog.values()["bpm"] == 350.0  # 300 was the dialog's limit before
    settings = StudioSettings(tmp_path / "studio.ini")
    settings.count_in_tempo = 390.0
    assert settings.count_in_tempo == 390.0
    settings.count_in_tempo = 1000.0
    assert settings.count_in_tempo == MAX_BPM
    settings.count_in_tempo = 5.0
    assert settings.count_in_tempo == MIN_BPM
