"""Original-format checkpoints in the model store: downloaded (resumable), converted once, reused by content hash.

The store is `<LOA data folder>/models/converted/`: one folder per source checkpoint, named by the first 20 hex digits
of the file's SHA-256, holding the diffusers AudioLDMPipeline layout. A conversion writes into `.<digest>.partial/`
(each component through its own temp folder and rename, so a rerun after an interruption keeps the whole ones)
and renames it to `<digest>/` when complete; only that final name is ever loaded, so a half conversion never is.
A lock file keeps two processes from converting the same checkpoint at once. The hashes of files already seen are
remembered by (path, size, modification and change time), so a later use of a multi-GB file does not read it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Callable, Optional

from core.errors import InputError, LoaError, ModelNotAvailable, first_line
from core.fileio import write_text_atomic
from core.output_checks import OutputError, describe_os_error
from core.paths import data_dir

ORIGINAL_SUFFIXES = (".pth", ".ckpt", ".pt")
CLAP_TOKENIZER_REPO = "laion/clap-htsat-unfused"  # the RoBERTa tokenizer the CLAP text branch was trained with
TOKENIZER_FILES = ["vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
Progress = Callable[[str, float], None]


def store_root() -> Path:
    root = data_dir() / "models" / "converted"
    root.mkdir(parents=True, exist_ok=True)
    return root


def is_original_checkpoint(path: Path) -> bool:
    return Path(path).suffix.lower() in ORIGINAL_SUFFIXES


def content_hash(path: Path, progress: Optional[Progress] = None, memo_only: bool = False) -> Optional[str]:
    """SHA-256 of the file, remembered by (resolved path, size, mtime, inode, ctime) so it is read once; with
    `memo_only`, only what is remembered (None when the file was never hashed)."""
    path = Path(path).resolve()
    st = path.stat()
    memo_path = store_root() / "hashes.json"
    try:
        memo = json.loads(memo_path.read_text())
        memo = memo if isinstance(memo, dict) else {}
    except (OSError, ValueError):
        memo = {}
    # ctime too: a file rewritten in place with its size and mtime kept (cp -p, rsync -t) is read again
    stamp = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_ctime_ns}"
    entry = memo.get(str(path))
    if isinstance(entry, dict) and entry.get("stamp") == stamp and isinstance(entry.get("sha256"), str):
        return entry["sha256"]
    if memo_only:
        return None
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as f:
        while chunk := f.read(8 << 20):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress("checking", done / max(st.st_size, 1))
    memo[str(path)] = {"stamp": stamp, "sha256": digest.hexdigest()}
    try:  # only a cache of work already done: a full disk costs a second read next time, never the conversion
        write_text_atomic(memo_path, json.dumps(memo, indent=1))
    except (OSError, LoaError):
        pass
    return digest.hexdigest()


def converted_folder(digest: str) -> Path:
    return store_root() / digest[:20]


def find_converted(path: Path) -> Optional[Path]:
    """The store folder of an already converted checkpoint, or None."""
    folder = converted_folder(content_hash(path))
    return folder if (folder / "model_index.json").is_file() else None


@contextlib.contextmanager
def _locked(lock_path: Path):
    with open(lock_path, "a+") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # Windows: one process converts at a time in practice
            pass
        yield


def import_checkpoint(path: Path, licence: str = "unknown (see the checkpoint's source)", trusted: bool = False,
                      tokenizer=None, progress: Optional[Progress] = None, _fail_after: Optional[str] = None) -> Path:
    """Convert an original-format checkpoint into the store once and return its diffusers folder.

    `trusted`: the file is the catalog's own download from the authors' repository (its pickle may hold more than
    tensors). `tokenizer`: the CLAP RoBERTa tokenizer (by default from the Hugging Face cache, fetched once)."""
    from core.models.original_convert import convert_into
    from core.models.original_format import infer_architecture, load_state_dict
    from core.quiet import quiet_model_libraries

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such checkpoint file.")
    digest = hub_digest(path) or content_hash(path, _phase(progress, "checking", 0.0, 0.15))
    final = converted_folder(digest)
    if (final / "model_index.json").is_file():
        return final
    root = store_root()
    with _locked(root / f".{digest[:20]}.lock"):
        if (final / "model_index.json").is_file():  # another process finished it meanwhile
            return final
        if final.exists():  # not ours to trust: only complete conversions are renamed here
            shutil.rmtree(final)
        if progress:
            progress("reading", 0.15)
        state = load_state_dict(path, trusted=trusted)
        arch = infer_architecture(state)
        tok = tokenizer if tokenizer is not None else clap_tokenizer(arch.text.vocab_size)
        partial = root / f".{digest[:20]}.partial"  # made only for a file that is a checkpoint: no litter
        partial.mkdir(exist_ok=True)
        components = _phase(progress, None, 0.25, 1.0)

        def step(name: str, fraction: float) -> None:
            if _fail_after is not None and name == _fail_after:  # tests: an interruption mid-conversion
                raise KeyboardInterrupt
            if components:
                components(name, fraction)

        quiet_model_libraries()  # no "Writing model shards" bars under a front end's quiet
        with _disk_errors_named(path, partial):
            convert_into(partial, state, arch, tok, licence, path.name, step)
            (partial / "loa_source.json").write_text(json.dumps({"sha256": digest, "file": path.name,
                                                                  "format": "original AudioLDM checkpoint"}))
        os.replace(partial, final)
    return final


@contextlib.contextmanager
def _disk_errors_named(source: Path, partial: Path):
    """A full (or read-only...) disk while converting: one line naming the store and the fix, exit 2. safetensors
    reports its write errors as SafetensorError("... (os error 28)"), not OSError, so both are read. The component
    being written goes; whole ones stay in `partial` for the rerun."""
    try:
        yield
    except Exception as exc:
        error = _os_error_in(exc)
        if error is None:
            raise
        for half in partial.glob(".*.partial"):
            shutil.rmtree(half, ignore_errors=True)
        reason = describe_os_error(error, partial.parent).removesuffix("; nothing was changed.")
        raise OutputError(f"{reason} while converting {source.name} into the model store; free some space there "
                          "(or point LOA_DATA_DIR at a larger disk) and run it again: the parts already converted "
                          "are kept.") from None


def _os_error_in(exc: BaseException) -> Optional[OSError]:
    if isinstance(exc, OSError) and exc.errno:
        return exc
    found = re.search(r"\(os error (\d+)\)", str(exc))  # Rust I/O errors (safetensors) carry the errno this way
    return OSError(int(found.group(1)), os.strerror(int(found.group(1)))) if found else None


def _phase(progress: Optional[Progress], stage: Optional[str], start: float, end: float) -> Optional[Progress]:
    """A part of the whole: fractions 0..1 of one phase reported as start..end overall (so progress only grows)."""
    if progress is None:
        return None
    return lambda name, f: progress(stage or name, start + (end - start) * f)


def clap_tokenizer(vocab_size: int):
    """The CLAP text branch's RoBERTa tokenizer: from the Hugging Face cache, else fetched once from the hub."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError
    from transformers import RobertaTokenizerFast

    try:
        folder = snapshot_download(CLAP_TOKENIZER_REPO, allow_patterns=TOKENIZER_FILES, local_files_only=True)
        if not any((Path(folder) / f).is_file() for f in ("vocab.json", "tokenizer.json")):
            raise LocalEntryNotFoundError("no tokenizer files")
    except (LocalEntryNotFoundError, FileNotFoundError, OSError, ValueError):
        folder = fetch_clap_tokenizer()
    tokenizer = RobertaTokenizerFast.from_pretrained(folder)
    if len(tokenizer) > vocab_size:
        raise InputError(f"the CLAP tokenizer has {len(tokenizer)} tokens, more than the checkpoint's {vocab_size}.")
    return tokenizer


def fetch_clap_tokenizer(tqdm_class=None) -> str:
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(CLAP_TOKENIZER_REPO, allow_patterns=TOKENIZER_FILES, tqdm_class=tqdm_class)
    except LoaError:  # Cancelled from the caller's progress bar
        raise
    except Exception as exc:  # offline, no network, hub error: one line saying what is needed
        raise ModelNotAvailable(f"Converting needs the CLAP text tokenizer ({CLAP_TOKENIZER_REPO}, about 2 MB) once, "
                                f"and it is not in the Hugging Face cache: {first_line(exc)[:120]}. Connect to the "
                                "network and try again.") from None


# ---- catalog models shipped as one original-format file ----------------------------------------------------------
def cached_original(info) -> Optional[Path]:
    """The catalog model's .pth in the Hugging Face cache (no network), or None."""
    from huggingface_hub import try_to_load_from_cache

    from core.models.hub_checks import check_hub_cache

    check_hub_cache()
    found = try_to_load_from_cache(info.hub_repo, info.hub_file)
    return Path(found) if isinstance(found, str) and Path(found).is_file() else None


def hub_digest(path: Path) -> Optional[str]:
    """The SHA-256 the hub cache names a large file's blob by (its LFS id), so it need not be read again."""
    target = Path(path).resolve()
    name = target.name
    if target.parent.name == "blobs" and len(name) == 64 and all(c in "0123456789abcdef" for c in name):
        return name
    return None


def converted_for(info) -> Optional[Path]:
    """The store folder of the catalog model's conversion when it is done, else None (nothing is read)."""
    cached = cached_original(info)
    digest = (hub_digest(cached) or content_hash(cached, memo_only=True)) if cached else None
    folder = converted_folder(digest) if digest else None
    return folder if folder is not None and (folder / "model_index.json").is_file() else None


def resolve_catalog_original(info, progress: Optional[Progress] = None) -> Path:
    """The converted folder of a downloaded catalog model, converting it now the first time."""
    from core.models.catalog import describe_download

    done = converted_for(info)
    if done is not None:
        return done
    cached = cached_original(info)
    if cached is None:
        raise ModelNotAvailable(f"Model {info.id} is not installed. Download it once with `loa models download "
                                f"{info.id}` ({describe_download(info)}); it is converted once after that.")
    return import_checkpoint(cached, licence=info.licence, trusted=True,
                             progress=progress or terminal_progress(info.id))


def download_original(info, tqdm_class=None, progress: Optional[Progress] = None) -> Path:
    """Download (or resume) the catalog model's file and the CLAP tokenizer, then convert it; return the folder."""
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(info.hub_repo, info.hub_file, tqdm_class=tqdm_class)
    except LoaError:
        raise
    except Exception as exc:  # network, hub or disk errors: one line; the partial file is kept for resuming
        raise ModelNotAvailable(f"Cannot download {info.id} ({info.hub_repo}/{info.hub_file}): "
                                f"{first_line(exc)[:160]}. Run `loa models download {info.id}` again: the part "
                                "already fetched is kept.") from None
    fetch_clap_tokenizer(tqdm_class)
    return import_checkpoint(Path(path), licence=info.licence, trusted=True,
                             progress=progress or terminal_progress(info.id))


def resolve_checkpoint_file(path: Path, progress: Optional[Progress] = None) -> Path:
    """A user's original-format checkpoint: its store folder, converted now the first time."""
    return import_checkpoint(path, progress=progress or terminal_progress(Path(path).name))


def terminal_progress(name: str) -> Progress:
    """Conversion stages as a bar on stderr, drawn only when it is a terminal."""
    from tqdm.auto import tqdm

    bar = tqdm(total=100, desc=f"Converting {name} (once)", unit="%", disable=None, leave=False)

    def report(stage: str, fraction: float) -> None:
        bar.set_postfix_str(stage, refresh=False)
        bar.n = int(100 * fraction)
        bar.refresh()
        if stage == "done":
            bar.close()

    return report
