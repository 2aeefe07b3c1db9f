"""Install a local model folder into a Hugging Face cache the way the hub client lays it out.

Blobs hold the bytes, snapshots/<commit>/ holds symlinks to them, refs/main names the commit.
This lets tests resolve a hub id through the real cache code without any network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def install_into_cache(folder: Path, repo_id: str, hf_home: Path) -> Path:
    repo_dir = Path(hf_home) / "hub" / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo_dir / "snapshots" / FAKE_COMMIT
    blobs = repo_dir / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    for src in Path(folder).rglob("*"):
        if not src.is_file():
            continue
        data = src.read_bytes()
        blob = blobs / hashlib.sha256(data).hexdigest()
        if not blob.exists():
            shutil.copyfile(src, blob)
        link = snapshot / src.relative_to(folder)
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(blob, link.parent), link)
    (repo_dir / "refs").mkdir(exist_ok=True)
    (repo_dir / "refs" / "main").write_text(FAKE_COMMIT)
    return snapshot
