"""`loa models list` and `loa models download ID`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.models.catalog import CATALOG, describe_size
from core.models.imported import cached_original, converted_for, store_root
from core.models.store import download_model, installed_models

from .common import print_lines


def register(subparsers) -> None:
    p = subparsers.add_parser("models", help="list or download models")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="the catalog, what is installed, and sizes")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    dl = sub.add_parser("download", help="download a model into the Hugging Face cache (resumable)")
    dl.add_argument("model_id", help="catalog or hub id, e.g. cvssp/audioldm2 or audioldm_48k")
    dl.set_defaults(func=run_download)


def run_list(args: argparse.Namespace) -> int:
    # An incomplete snapshot (a download cut short) is listed as such, never as installed.
    installed = {m.id: m for m in installed_models(include_incomplete=True)}
    rows = []
    for info in CATALOG.values():
        if info.is_original_format:
            rows.append(_original_row(info))
            continue
        have = installed.get(info.id)
        rows.append({"id": info.id, "task": info.task, "title": info.title, "licence": info.licence,
                     "sample_rate": info.sample_rate, "download_bytes": info.download_bytes,
                     "download_estimated": info.size_estimated, "installed": have is not None and not have.problem,
                     "incomplete": have.problem if have else None,
                     "installed_bytes": have.size_bytes if have else None,
                     "folder": str(have.folder) if have else None})
    for extra in installed.values():
        if extra.id not in CATALOG:
            rows.append({"id": extra.id, "task": "?", "title": "", "licence": "see model card",
                         "sample_rate": _folder_rate(extra.folder), "download_bytes": None,
                         "installed": not extra.problem, "incomplete": extra.problem,
                         "installed_bytes": extra.size_bytes, "folder": str(extra.folder)})
    shown = {r["folder"] for r in rows}
    rows += [r for r in _converted_rows() if r["folder"] not in shown]
    if args.json:
        print_lines([json.dumps(rows, indent=2)])
        return 0
    lines = [f"{'MODEL':32} {'TASK':7} {'RATE':>8} {'DOWNLOAD':>9} {'INSTALLED':>10}  LICENCE"]
    for r in rows:
        size = ("~" if r.get("download_estimated") else "") + describe_size(r["download_bytes"]) \
            if r["download_bytes"] else "-"
        have = describe_size(r["installed_bytes"]) if r["installed"] else "incomplete" if r["incomplete"] else "no"
        rate = f"{r['sample_rate'] / 1000:g} kHz" if r.get("sample_rate") else "?"
        lines.append(f"{r['id']:32} {r['task']:7} {rate:>8} {size:>9} {have:>10}  {r['licence']}")
    print_lines(lines)  # `loa models list | head -1` is not an error
    return 0


def run_download(args: argparse.Namespace) -> int:
    folder = download_model(args.model_id)
    print_lines([str(folder)])
    return 0


def _original_row(info) -> dict:
    """A catalog model shipped as one original-format file: installed once its file is in the Hugging Face cache;
    `folder` is its converted copy in the store (None until the first use converts it)."""
    cached = cached_original(info)
    converted = converted_for(info) if cached else None
    return {"id": info.id, "task": info.task, "title": info.title, "licence": info.licence,
            "sample_rate": info.sample_rate, "download_bytes": info.download_bytes,
            "download_estimated": info.size_estimated, "installed": cached is not None, "incomplete": None,
            "installed_bytes": cached.stat().st_size if cached else None, "converted": converted is not None,
            "folder": str(converted) if converted else None, "source": f"{info.hub_repo}/{info.hub_file}"}


def _converted_rows() -> list[dict]:
    """Checkpoint files a user converted (--model x.pth, the window's Add checkpoint file): the store's folders."""
    rows = []
    for folder in sorted(p for p in store_root().iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            source = json.loads((folder / "loa_source.json").read_text()).get("file", "?")
        except (OSError, ValueError, AttributeError):
            continue
        rows.append({"id": str(folder), "task": "?", "title": f"{source} (converted)",
                     "licence": "see the checkpoint's source", "sample_rate": _folder_rate(folder),
                     "download_bytes": None, "installed": True, "incomplete": None,
                     "installed_bytes": sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()),
                     "folder": str(folder)})
    return rows


def _folder_rate(folder) -> int | None:
    try:
        rate = json.loads((Path(folder) / "vocoder" / "config.json").read_text()).get("sampling_rate")
        return int(rate) if isinstance(rate, (int, float)) else None
    except (OSError, ValueError, AttributeError):
        return None
