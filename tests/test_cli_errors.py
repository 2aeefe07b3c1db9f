"""Every CLI error path of issue 8 ends in exit 2 (bad input or usage) or 3 (model not available) with exactly one
line on stderr and no traceback. Each case is a real `loa` process (see cli_cases.py: forked after one import).

To add a case, append to CASES: (id, argv, expected exit code, words the line must hold). Placeholders in argv:
{tiny} {speech} a tiny text-to-audio / speech model folder, {damaged:COMPONENT:zero|half} a copy of {tiny} with that
component's weights emptied / cut in half, {index:TEXT} a copy whose model_index.json holds TEXT, {vocoder:JSON}
a copy whose vocoder config is updated with JSON, {speech_wav} a
copy of a real 48 kHz speech recording, {bell} a real 0.14 s bell, {tmp} a scratch folder, {file} a plain file,
{empty_wav} a 0-byte .wav, {five_hours} a (sparse) 5-hour WAV, {jobs} a one-row batch job list, {loop} a symbolic
link that leads back to itself, {write:NAME:CONTENT} a file NAME holding CONTENT, {config:FILE:JSON} a copy of {tiny}
whose FILE (relative to the model folder) holds JSON, {renamed:FILE:NEW} a copy of {tiny} with FILE renamed NEW.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LONG_NUMBER = "9" * 310
ENV_FILE_CACHE = {"HF_HUB_CACHE": "{file}"}

CASES = [
    # usage: one line naming the problem and pointing at --help
    ("no-command", [], 2, "the following arguments are required: COMMAND (see `loa --help`)"),
    ("unknown-command", ["frobnicate"], 2, "invalid choice: 'frobnicate'"),
    ("missing-prompt", ["generate"], 2, "required: prompt (see `loa generate --help`)"),
    ("steps-not-a-number", ["generate", "rain", "--steps", "many"], 2, "invalid int value: 'many'"),
    ("unknown-scheduler", ["generate", "rain", "--scheduler", "euler"], 2, "invalid choice: 'euler'"),
    ("models-without-action", ["models"], 2, "required: ACTION"),
    ("loop-without-action", ["loop", "{bell}"], 2, "one of the arguments --extend-bars --close is required"),
    # numbers outside the documented ranges
    ("steps-past-max", ["generate", "rain", "--model", "{tiny}", "--steps", "1001"], 2, "steps must be"),
    # the model
    ("model-empty", ["generate", "rain", "--model", ""], 2, "--model is empty"),
    ("model-unknown-id", ["generate", "rain", "--model", "nonexistent/id"], 3,
     "Unknown model nonexistent/id: it is neither in the catalog (cvssp/audioldm2"),
    ("model-not-an-id", ["generate", "rain", "--model", "a/b/c"], 2, "Unknown model 'a/b/c'"),
    ("model-folder-missing", ["generate", "rain", "--model", "{tmp}/no-such-model"], 3, "Model folder not found"),
    ("model-folder-not-diffusers", ["generate", "rain", "--model", "{tmp}"], 3, "model_index.json is missing"),
    ("vocoder-empty", ["generate", "rain", "--model", "{damaged:vocoder:zero}"], 3,
     "vocoder/model.safetensors is empty (0 bytes): the folder is damaged; download it again"),
    ("vocoder-cut", ["generate", "rain", "--model", "{damaged:vocoder:half}"], 3, "vocoder/model.safetensors is cut"),
    ("language-model-cut", ["generate", "rain", "--model", "{damaged:language_model:half}"], 3,
     "language_model/model.safetensors is cut short"),
    ("language-model-empty", ["generate", "rain", "--model", "{damaged:language_model:zero}"], 3, "is empty"),
    ("text-encoder-cut", ["generate", "rain", "--model", "{damaged:text_encoder:half}"], 3,
     "text_encoder/model.safetensors is cut short"),
    ("text-encoder-empty", ["speak", "hello", "--model", "{damaged:text_encoder:zero}"], 3, "download it again"),
    ("unet-cut", ["generate", "rain", "--model", "{damaged:unet:half}"], 3, "unet/diffusion_pytorch_model"),
    ("index-list", ["generate", "rain", "--model", "{index:[]}"], 3,
     "model_index.json holds [] instead of a table of components: the folder is damaged; download it again"),
    ("index-null", ["generate", "rain", "--model", "{index:null}"], 3, "holds null instead of a table"),
    ("index-incomplete", ["generate", "rain", "--model", '{index:{"_class_name": "AudioLDM2Pipeline"}}'], 3,
     "names no vae"),
    # a model whose audio geometry does not fit the front-end
    ("vocoder-hop-256", ["continue", "{speech_wav}", "--seconds", "1", "--model",
                         '{vocoder:{"upsample_rates": [4, 4, 4, 4]}}'], 3,
     "does not fit LOA Studio's audio front-end: its vocoder turns each mel frame into 256 samples"),
    ("vocoder-24k", ["generate", "rain", "--model", '{vocoder:{"sampling_rate": 24000}}'], 3,
     "its vocoder makes 24000 Hz audio"),
    # downloads and the hub cache
    ("download-path", ["models", "download", "../../etc"], 2, "'../../etc' is not a hub model id"),
    ("download-empty", ["models", "download", ""], 2, "the model id is empty"),
    ("cache-is-a-file-list", ["models", "list"], 2, "is a file, not a folder", ENV_FILE_CACHE),
    ("cache-is-a-file-generate", ["generate", "rain", "--model", "cvssp/audioldm2"], 2, "is a file, not a folder",
     ENV_FILE_CACHE),
    ("cache-is-a-file-download", ["models", "download", "cvssp/audioldm2"], 2, "is a file, not a folder",
     ENV_FILE_CACHE),
    # speech
    ("number-too-long", ["speak", f"call {LONG_NUMBER} now", "--model", "{speech}"], 2,
     "cannot say the number 999999999999... (310 digits): it is too long to spell out"),
    # in-context edits
    ("inpaint-start-nan", ["inpaint", "{speech_wav}", "--start", "nan", "--end", "1", "--model", "{tiny}"], 2,
     "the start of the range must be a time in seconds within the clip"),
    ("inpaint-end-nan", ["inpaint", "{speech_wav}", "--start", "0.1", "--end", "nan", "--model", "{tiny}"], 2,
     "the end of the range"),
    ("close-too-short", ["loop", "{bell}", "--close", "--model", "{tiny}"], 2,
     "the clip is too short to close as a loop (0.14 s"),
    # odd input files: read nothing, load no model
    ("audio-empty-file", ["continue", "{empty_wav}", "--seconds", "1", "--model", "{tiny}"], 2,
     "empty.wav is empty (0 bytes)"),
    ("audio-five-hours", ["continue", "{five_hours}", "--seconds", "1", "--model", "{tiny}"], 2,
     "five-hours.wav is too long to open: 5:00:00 of 2-channel 44100 Hz audio needs 5.9 GB of memory"),
    ("reference-five-hours", ["speak", "hi", "--reference", "{five_hours}", "--reference-text", "hi", "--model",
                              "{speech}"], 2, "too long to open"),
    ("audio-folder", ["inpaint", "{tmp}", "--start", "0", "--end", "1", "--model", "{tiny}"], 2,
     "is a folder, not an audio file; name a file inside it"),
    ("audio-stdin", ["transform", "-", "--prompt", "choir", "--model", "{tiny}"], 2,
     "reading audio from standard input (-) is not supported"),
    ("audio-device", ["continue", "/dev/null", "--seconds", "1", "--model", "{tiny}"], 2,
     "/dev/null is not a regular file (a pipe or a device)"),
    ("output-stdout", ["generate", "rain", "--model", "{tiny}", "-o", "-"], 2,
     "writing audio to standard output (-) is not supported"),
    ("batch-stdin", ["batch", "-", "--out", "{tmp}/takes", "--model", "{tiny}"], 2,
     "reading the job list from standard input (-) is not supported"),
    ("batch-out-is-a-file", ["batch", "{jobs}", "--out", "{file}", "--model", "{tiny}"], 2,
     "is a file, not a folder; name a folder"),
    ("batch-out-under-a-file", ["batch", "{jobs}", "--out", "{file}/takes", "--model", "{tiny}"], 2,
     "cannot write into --out"),
    # loa edit: ranges read against the audio, inputs that are not audio
    ("edit-range-past-the-end", ["edit", "{speech_wav}", "-o", "{tmp}/edited.wav", "--trim", "0:999"], 2,
     "--trim 0:999: ends at 999 s, after the end of the audio at this step"),
    ("edit-not-audio", ["edit", "{file}", "--measure"], 2, "as audio"),
    ("edit-backwards-range", ["edit", "{speech_wav}", "--delete", "2:1"], 2, "'2:1' is empty or backwards"),
    # issue 18: what still ended in exit 1 or said the wrong thing
    ("output-through-symlink-loop", ["generate", "rain", "--model", "{tiny}", "-o", "{loop}/take.wav"], 2,
     "loop-a is a loop of symbolic links"),
    ("edit-output-through-symlink-loop", ["edit", "{speech_wav}", "-o", "{loop}/take.wav", "--gain", "-1"], 2,
     "loop-a is a loop of symbolic links"),
    ("settings-folder-is-a-file", ["speak", "hi", "--preset", "Narrator, calm", "--model", "{speech}", "-o",
                                   "{tmp}/hi.wav"], 2,
     "as LOA's settings folder: a part of its path is a file, not a folder; set XDG_CONFIG_HOME (which chose it)",
     {"XDG_CONFIG_HOME": "{file}", "LOA_CONFIG_DIR": ""}),
    ("vocoder-config-a-list", ["generate", "rain", "--model", "{config:vocoder/config.json:[1, 2]}"], 3,
     "vocoder/config.json holds [1, 2] instead of a table of settings: the folder is damaged"),
    ("vocoder-config-wrong-type", ["generate", "rain", "--model",
                                   '{config:vocoder/config.json:{"upsample_rates": "4", "sampling_rate": 16000}}'], 3,
     'vocoder/config.json sets upsample_rates to "4", but it must be a list of numbers'),
    ("vae-config-wrong-type", ["generate", "rain", "--model",
                               '{config:vae/config.json:{"_class_name": "AutoencoderKL", "block_out_channels": 5}}'],
     3, "vae/config.json sets block_out_channels to 5, but it must be a list of numbers"),
    ("scheduler-config-a-list", ["generate", "rain", "--model", "{config:scheduler/scheduler_config.json:[]}"], 3,
     "scheduler/scheduler_config.json holds [] instead of a table of settings"),
    ("scheduler-config-wrong-type", ["generate", "rain", "--model",
                                     '{config:scheduler/scheduler_config.json:{"num_train_timesteps": "many"}}'], 3,
     'scheduler_config.json sets num_train_timesteps to "many", but it must be a number'),
    ("unet-weights-misnamed", ["generate", "rain", "--model",
                               "{renamed:unet/diffusion_pytorch_model.safetensors:unet/model.safetensors}"], 3,
     "missing unet/diffusion_pytorch_model.safetensors (the folder has model.safetensors, a name the loader"),
    ("edit-insert-silence-1e9", ["edit", "{speech_wav}", "-o", "{tmp}/long.wav", "--insert-silence", "1:1e9"], 2,
     "'1:1e9': the silence can last at most 24 hours"),
    ("edit-insert-silence-beyond-memory", ["edit", "{speech_wav}", "-o", "{tmp}/long.wav", "--insert-silence",
                                           "end:72000"], 2, "of memory (at most 2 GB); at most"),
    ("format-lossy-bit-depth-names-the-flag", ["speak", "hi", "--model", "{speech}", "--format", "mp3",
                                               "--bit-depth", "24"], 2,
     "MP3 is lossy and has no bit depth to choose; drop --bit-depth, or use --format wav, flac or aiff."),
    ("edit-trim-negative", ["edit", "{speech_wav}", "-o", "{tmp}/t.wav", "--trim", "-1:2"], 2,
     "'-1:2': a range is START:END in seconds from the clip's start, both 0 or later"),
    ("bars-with-seconds", ["generate", "rain", "--bars", "4", "--bpm", "120", "--seconds", "5", "--model",
                           "{tmp}/no-such-model"], 2, "--bars sets the length in bars (at --bpm), so --seconds cannot"),
    ("loop-end-without-bars", ["generate", "rain", "--loop-end", "close-loop", "--model", "{tmp}/no-such-model"], 2,
     "--loop-end goes with --bars N"),
    ("script-is-a-folder", ["speak", "--script", "{tmp}", "--model", "{speech}"], 2,
     "is a folder, not a script; name the script's text file"),
    ("script-unclosed-tag", ["speak", "--script", "{write:tag.txt:Hello there.\n[host hello\n}", "--model",
                             "{speech}", "-o", "{tmp}/ep"], 2,
     "script line 2: the voice tag has no closing ]"),
    ("script-output-named-like-audio", ["speak", "--script", "{write:two.txt:Hello there.\n}", "--model",
                                        "{speech}", "-o", "{tmp}/ep.wav"], 2,
     "-o for a script names the folder its files go into, but"),
    ("batch-duplicate-header", ["batch", "{write:twice.csv:prompt,seconds,Prompt\nrain,1,snow\n}", "--out",
                                "{tmp}/takes", "--model", "{tiny}", "--dry-run"], 2,
     "twice.csv, line 1: 'prompt' (column 1) and 'Prompt' (column 3) both name the prompt column"),
    ("batch-json-array", ["batch", '{write:list.json:[{"prompt": "rain"}]}', "--out", "{tmp}/takes", "--model",
                          "{tiny}", "--dry-run"], 2, "list.json holds a JSON array; write one JSON object per line"),
    ("batch-csv-named-json", ["batch", "{write:rows.json:prompt\nrain\n}", "--out", "{tmp}/takes", "--model",
                              "{tiny}", "--dry-run"], 2, "rows.json ends in .json but does not hold JSON objects"),
]


def _case_id(case) -> str:
    return case[0]


@pytest.fixture(scope="module")
def outcomes(tiny_model_dir, tiny_speech_model_dir, corpus_files, tmp_path_factory) -> dict:
    """Every case run once, keyed by id."""
    scratch = tmp_path_factory.mktemp("cli-errors")
    places = {"tiny": str(tiny_model_dir), "speech": str(tiny_speech_model_dir), "tmp": str(scratch / "empty")}
    (scratch / "empty").mkdir()
    places["file"] = str(scratch / "a-file")
    Path(places["file"]).write_text("not a folder")
    places["empty_wav"] = str(scratch / "empty.wav")
    Path(places["empty_wav"]).touch()
    places["five_hours"] = str(_five_hours_of_silence(scratch / "five-hours.wav"))
    places["jobs"] = str(scratch / "jobs.csv")
    Path(places["jobs"]).write_text("prompt\nrain\n")
    for name, prefix in (("speech_wav", "speech_"), ("bell", "bell_")):
        source = next(p for p in corpus_files if p.name.startswith(prefix))
        places[name] = str(shutil.copy(source, scratch / source.name))

    (scratch / "loop-a").symlink_to("loop-b")
    (scratch / "loop-b").symlink_to("loop-a")
    places["loop"] = str(scratch / "loop-a")

    def expand(text: str) -> str:
        if text.startswith(("{damaged:", "{index:", "{vocoder:", "{config:", "{renamed:")):
            return _damaged_copy(tiny_model_dir, scratch, text[1:-1])
        if text.startswith("{write:"):  # {write:NAME:CONTENT}: a file holding CONTENT
            name, _, content = text[len("{write:"):-1].partition(":")
            (scratch / name).write_text(content)
            return str(scratch / name)
        for key, value in places.items():
            text = text.replace("{" + key + "}", value)
        return text

    requests = [{"argv": [expand(a) for a in case[1]],
                 "env": {k: expand(v) for k, v in (case[4] if len(case) > 4 else {}).items()}} for case in CASES]
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HOME=str(scratch / "hf-home"),
               HF_HUB_CACHE=str(scratch / "hf-home" / "hub"), HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, str(REPO / "tests" / "cli_cases.py")], input=json.dumps(requests),
                          capture_output=True, text=True, env=env, cwd=scratch, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return {case[0]: result for case, result in zip(CASES, json.loads(done.stdout))}


def _five_hours_of_silence(path: Path) -> Path:
    """A real 16-bit stereo 44.1 kHz WAV of 5 hours (3.2 GB), written sparse: its samples cost no disk."""
    data = 5 * 3600 * 44_100 * 4
    header = (b"RIFF" + (36 + data).to_bytes(4, "little") + b"WAVEfmt " +
              struct.pack("<IHHIIHH", 16, 1, 2, 44_100, 44_100 * 4, 4, 16) + b"data" + data.to_bytes(4, "little"))
    with path.open("wb") as f:
        f.write(header)
        f.truncate(len(header) + data)
    return path


def _damaged_copy(model: Path, scratch: Path, spec: str) -> str:
    kind, _, rest = spec.partition(":")
    folder = scratch / f"{kind}-{abs(hash(rest))}"
    if not folder.exists():
        shutil.copytree(model, folder)
        if kind == "damaged":
            component, how = rest.split(":")
            weights = next((folder / component).glob("*.safetensors"))
            size = weights.stat().st_size
            with weights.open("r+b") as f:
                f.truncate(0 if how == "zero" else size // 2)
        elif kind == "config":  # {config:FILE:JSON}
            name, _, text = rest.partition(":")
            (folder / name).write_text(text)
        elif kind == "renamed":  # {renamed:FILE:NEW NAME}
            name, _, new = rest.partition(":")
            (folder / name).rename(folder / new)
        elif kind == "vocoder":
            config_path = folder / "vocoder" / "config.json"
            config_path.write_text(json.dumps({**json.loads(config_path.read_text()), **json.loads(rest)}))
        else:
            (folder / "model_index.json").write_text(rest)
    return str(folder)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_an_error_is_one_line_with_an_honest_exit_code(outcomes, case):
    name, _, code, words = case[:4]
    result = outcomes[name]
    lines = result["stderr"].splitlines()
    assert result["code"] == code, result["stderr"]
    assert len(lines) == 1, result["stderr"]
    assert "Traceback" not in result["stderr"] and ": error: " in lines[0]
    assert words in lines[0]
