"""`loa models list` and `loa models download ID`."""

from __future__ import annotations

import argparse
import json

from core.models.catalog import CATALOG, describe_size
from core.models.store import download_model, installed_models

from .common import print_lines


def register(subparsers) -> None:
    p = subparsers.add_parser("models", help="list or download models")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="the catalog, what is installed, and sizes")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    dl = sub.add_parser("download", help="download a model into the Hugging Face cache (resumable)")
    dl.add_argument("model_id", help="hub id, e.g. cvssp/audioldm2")
    dl.set_defaults(func=run_download)


def run_list(args: argparse.Namespace) -> int:
    # An incomplete snapshot (a download cut short) is listed as such, never as installed.
    installed = {m.id: m for m in installed_models(include_incomplete=True)}
    rows = []
    for info in CATALOG.values():
        have = installed.get(info.id)
        rows.append({"id": info.id, "task": info.task, "title": info.title, "licence": info.licence,
                     "download_bytes": info.download_bytes, "installed": have is not None and not have.problem,
                     "incomplete": have.problem if have else None,
                     "installed_bytes": have.size_bytes if have else None,
                     "folder": str(have.folder) if have else None})
    for extra in installed.values():
        if extra.id not in CATALOG:
            rows.append({"id": extra.id, "task": "?", "title": "", "licence": "see model card",
                         "download_bytes": None, "installed": not extra.problem, "incomplete": extra.problem,
                         "installed_bytes": extra.size_bytes, "folder": str(extra.folder)})
    if args.json:
        print_lines([json.dumps(rows, indent=2)])
        return 0
    lines = [f"{'MODEL':32} {'TASK':7} {'DOWNLOAD':>9} {'INSTALLED':>10}  LICENCE"]
    for r in rows:
        size = describe_size(r["download_bytes"]) if r["download_bytes"] else "-"
        have = describe_size(r["installed_bytes"]) if r["installed"] else "incomplete" if r["incomplete"] else "no"
        lines.append(f"{r['id']:32} {r['task']:7} {size:>9} {have:>10}  {r['licence']}")
    print_lines(lines)  # `loa models list | head -1` is not an error
    return 0


def run_download(args: argparse.Namespace) -> int:
    folder = download_model(args.model_id)
    print_lines([str(folder)])
    return 0
