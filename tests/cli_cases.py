"""Runs many `loa` command lines quickly for tests/test_cli_errors.py: the libraries are imported once, then
each command line runs in its own forked process with its own stdout/stderr files and exit status, so every case
is a real process exit (argparse's SystemExit, os._exit on Ctrl+C...) without paying torch's import per case.

Reads a JSON list of {"argv": [...], "env": {...}} on stdin; writes a JSON list of {"code", "stdout", "stderr"}.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback


def run_case(argv: list[str], env: dict[str, str], folder: str) -> dict:
    out_path, err_path = os.path.join(folder, "out"), os.path.join(folder, "err")
    pid = os.fork()
    if pid == 0:  # the child: one `loa` process
        code = 1
        try:
            out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(out, 1)
            os.dup2(err, 2)
            os.environ.update(env)
            if "HF_HUB_CACHE" in env:  # huggingface_hub read the variable at import
                import huggingface_hub.constants as constants

                constants.HF_HUB_CACHE = env["HF_HUB_CACHE"]
            from core.cli.main import main

            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - an escaped exception is what the test must see
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with open(out_path, errors="replace") as f_out, open(err_path, errors="replace") as f_err:
        return {"code": code, "stdout": f_out.read(), "stderr": f_err.read()}


def main() -> None:
    cases = json.load(sys.stdin)
    from core.cli.main import build_parser

    build_parser()  # imports every command module (torch, diffusers) once, before forking
    from huggingface_hub import HfApi, scan_cache_dir, snapshot_download  # noqa: F401 - what the cases import
    from safetensors import SafetensorError  # noqa: F401

    from core.quiet import quiet_libraries

    quiet_libraries()
    with tempfile.TemporaryDirectory() as folder:
        results = []
        for case in cases:
            started = time.perf_counter()
            results.append(run_case(case["argv"], case.get("env", {}), folder))
            results[-1]["seconds"] = round(time.perf_counter() - started, 3)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
