"""A small Hugging Face hub on loopback, speaking just what huggingface_hub's downloads need.

It serves model folders from disk under hub ids, with the endpoints `snapshot_download` and
`HfApi.list_repo_files` call (checked against huggingface_hub 2.x):

- GET  /api/models/{repo}[/revision/{rev}]        repo info; `sha` is the commit
- GET  /api/models/{repo}/tree/{rev}[/{path}]     the file listing, paginated with a `Link` header
- HEAD/GET /{repo}/resolve/{rev}/{file}           the bytes, with ETag, X-Repo-Commit,
                                                  Content-Length and Range (206) support

Errors carry the hub's X-Error-Code header (RepoNotFound, RevisionNotFound, EntryNotFound), which
is how huggingface_hub picks its exception classes. Weight files are served as LFS files (sha256
ETag and an `lfs` entry in the tree), the rest as git blobs (git's sha1), as the real hub does.

Faults for tests: `fail_all_with` answers every request with that status; `drop_once` names files
whose first GET is cut off mid-body (the client must resume with a Range request);
`fail_get_once` names files whose first GET answers 500; `gated` names repos whose files and
listing answer 401 GatedRepo. Every request is logged in `requests`.

The server runs on a daemon thread, bound to 127.0.0.1 on a free port; `stop()` shuts it down,
and a watchdog stops it anyway after `lifetime_s` so a crashed test cannot leave it running.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional
from urllib.parse import parse_qs, quote, unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")
DEFAULT_BRANCH = "main"


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str  # unquoted, without the query
    query: dict
    range: Optional[str]

    @property
    def resolved_file(self) -> Optional[str]:
        """The repo file a /resolve/ request asked for, or None for other requests."""
        match = RESOLVE.match(self.path)
        return match["file"] if match else None


@dataclass(frozen=True)
class RepoFile:
    path: str
    data: bytes

    @property
    def is_lfs(self) -> bool:
        return self.path.endswith(LFS_SUFFIXES)

    @property
    def git_oid(self) -> str:
        return hashlib.sha1(b"blob %d\0" % len(self.data) + self.data).hexdigest()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def etag(self) -> str:
        return self.sha256 if self.is_lfs else self.git_oid

    def tree_entry(self) -> dict:
        entry = {"type": "file", "path": self.path, "size": len(self.data), "oid": self.git_oid}
        if self.is_lfs:
            entry["lfs"] = {"oid": self.sha256, "size": len(self.data), "pointerSize": 134}
        return entry


class Repo:
    def __init__(self, repo_id: str, files: dict[str, bytes]) -> None:
        self.id = repo_id
        self.files = {path: RepoFile(path, data) for path, data in sorted(files.items())}
        digest = hashlib.sha1()
        for f in self.files.values():
            digest.update(f.path.encode() + b"\0" + f.git_oid.encode())
        self.commit = digest.hexdigest()

    @classmethod
    def from_folder(cls, repo_id: str, folder: Path, extra: Optional[dict[str, bytes]] = None) -> "Repo":
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*"))
                 if p.is_file()}
        files.update(extra or {})
        return cls(repo_id, files)

    def knows(self, revision: str) -> bool:
        return revision in (DEFAULT_BRANCH, self.commit)

    def folders(self) -> list[str]:
        names = set()
        for path in self.files:
            parts = path.split("/")[:-1]
            names.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        return sorted(names)


REPO = r"(?P<repo>[^/]+/[^/]+)"
INFO = re.compile(rf"^/api/models/{REPO}(?:/revision/(?P<rev>[^/]+))?$")
TREE = re.compile(rf"^/api/models/{REPO}/tree/(?P<rev>[^/]+)(?:/(?P<sub>.+))?$")
RESOLVE = re.compile(rf"^/{REPO}/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")


class FakeHub:
    def __init__(self, repos: list[Repo], page_size: int = 8, lifetime_s: float = 120.0) -> None:
        self.repos = {r.id: r for r in repos}
        self.page_size = page_size  # small, so a tiny repo's listing still takes several pages
        self.fail_all_with: Optional[int] = None
        self.drop_once: set[str] = set()
        self.fail_get_once: set[str] = set()
        self.gated: set[str] = set()  # repo ids whose licence this (anonymous) client has not accepted
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-hub", daemon=True)
        self._watchdog = threading.Timer(lifetime_s, self.stop)
        self._watchdog.daemon = True
        self._stopped = False

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeHub":
        self._thread.start()
        self._watchdog.start()
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._watchdog.cancel()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "FakeHub":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def log(self, request: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def take_fault(self, faults: set[str], name: str) -> bool:
        with self._lock:
            if name in faults:
                faults.discard(name)
                return True
            return False

    def file_gets(self) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == "GET" and r.resolved_file is not None]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # a client hanging up (or the server cutting a download off on purpose) is not news


def _handler_for(hub: FakeHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real hub: every response carries Content-Length
        timeout = 10  # an idle keep-alive connection does not hold its thread for ever

        def log_message(self, *args) -> None:  # quiet: the test reads hub.requests instead
            pass

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_GET(self) -> None:
            self._serve(head=False)

        def _serve(self, head: bool) -> None:
            url = urlsplit(self.path)
            path = unquote(url.path)
            request = LoggedRequest(self.command, path, parse_qs(url.query), self.headers.get("Range"))
            hub.log(request)
            if hub.fail_all_with is not None:
                return self._error(hub.fail_all_with, None, "the fake hub is down")
            for pattern, route in ((TREE, self._tree), (INFO, self._info), (RESOLVE, self._resolve)):
                match = pattern.match(path)
                if match:
                    repo = hub.repos.get(match["repo"])
                    if repo is None:
                        return self._error(404, "RepoNotFound", "Repository not found")
                    if repo.id in hub.gated and route != self._info:
                        return self._error(401, "GatedRepo", "Access to this model is restricted")
                    if match["rev"] is not None and not repo.knows(match["rev"]):
                        return self._error(404, "RevisionNotFound", "Invalid rev id")
                    return route(repo, match, request, head)
            return self._error(404, None, "Not found")

        def _info(self, repo: Repo, match, request: LoggedRequest, head: bool) -> None:
            body = {"id": repo.id, "modelId": repo.id, "sha": repo.commit, "private": False,
                    "gated": False, "disabled": False, "tags": ["diffusers"],
                    "siblings": [{"rfilename": path} for path in repo.files]}
            self._json(body, head)

        def _tree(self, repo: Repo, match, request: LoggedRequest, head: bool) -> None:
            recursive = request.query.get("recursive", ["false"])[0].lower() == "true"
            sub = (match["sub"] or "").strip("/")
            prefix = f"{sub}/" if sub else ""
            entries = [{"type": "directory", "path": d, "oid": hashlib.sha1(d.encode()).hexdigest()}
                       for d in repo.folders() if d.startswith(prefix)]
            entries += [f.tree_entry() for f in repo.files.values() if f.path.startswith(prefix)]
            if not recursive:
                entries = [e for e in entries if "/" not in e["path"][len(prefix):]]
            start = int(request.query.get("cursor", ["0"])[0])
            page = entries[start:start + hub.page_size]
            headers = {}
            if start + hub.page_size < len(entries):
                query = f"recursive={str(recursive)}&expand=False&cursor={start + hub.page_size}"
                next_url = f"{hub.endpoint}{quote(urlsplit(self.path).path)}?{query}"
                headers["Link"] = f'<{next_url}>; rel="next"'
            self._json(page, head, headers)

        def _resolve(self, repo: Repo, match, request: LoggedRequest, head: bool) -> None:
            f = repo.files.get(match["file"])
            if f is None:
                return self._error(404, "EntryNotFound", "Entry not found", {"X-Repo-Commit": repo.commit})
            headers = {"ETag": f'"{f.etag}"', "X-Repo-Commit": repo.commit, "Accept-Ranges": "bytes",
                       "Content-Type": "application/octet-stream"}
            if f.is_lfs:
                headers.update({"X-Linked-Etag": f'"{f.etag}"', "X-Linked-Size": str(len(f.data))})
            if not head and hub.take_fault(hub.fail_get_once, f.path):
                return self._error(500, None, "transient storage error")
            start, end, status = 0, len(f.data) - 1, 200
            if request.range and not head:
                parsed = re.fullmatch(r"bytes=(\d+)-(\d*)", request.range.strip())
                if parsed is None or int(parsed[1]) >= len(f.data):
                    return self._error(416, None, "Range not satisfiable",
                                       {"Content-Range": f"bytes */{len(f.data)}"})
                start, status = int(parsed[1]), 206
                end = min(int(parsed[2]), end) if parsed[2] else end
                headers["Content-Range"] = f"bytes {start}-{end}/{len(f.data)}"
            body = f.data[start:end + 1]
            if not head and hub.take_fault(hub.drop_once, f.path):
                return self._cut_off(status, headers, body)
            self._send(status, headers, body, head)

        def _cut_off(self, status: int, headers: dict, body: bytes) -> None:
            """Promise the whole body, send half of it, and hang up, as a dropped connection does."""
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

        def _json(self, value, head: bool, headers: Optional[dict] = None) -> None:
            self._send(200, {"Content-Type": "application/json", **(headers or {})},
                       json.dumps(value).encode(), head)

        def _error(self, status: int, code: Optional[str], message: str, headers: Optional[dict] = None) -> None:
            extra = dict(headers or {})
            if code is not None:
                extra["X-Error-Code"] = code
            extra["X-Error-Message"] = message
            self._send(status, {"Content-Type": "application/json", **extra},
                       json.dumps({"error": message}).encode(), self.command == "HEAD")

        def _send(self, status: int, headers: dict, body: bytes, head: bool) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

    return Handler


def point_client_at(server, monkeypatch) -> None:
    """Make huggingface_hub talk to `server`, online, over plain HTTP (no xet).

    huggingface_hub reads these environment variables once, at import: patch what it derived too.
    """
    import huggingface_hub.constants as hf_constants

    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    monkeypatch.setattr(hf_constants, "ENDPOINT", server.endpoint)
    monkeypatch.setattr(hf_constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        server.endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_XET", True)
