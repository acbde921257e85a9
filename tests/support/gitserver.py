"""A real Git server over smart HTTP on 127.0.0.1, and bare repositories to serve from it.

Each request runs ``git http-backend`` as a CGI program, so clients talk to git's own server
code. Switches make it misbehave the ways the fetch code must survive: redirecting, stalling,
asking for a password, trickling the answer, or refusing fetches of unadvertised commits.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote

# A server-side git must not read the test machine's configuration either.
_CLEAN_GIT_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "LC_ALL": "C",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}

_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@botarena.test",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@botarena.test",
}


class GitServer:
    """Serve the bare repositories under ``root`` at ``http://127.0.0.1:PORT/NAME.git``.

    Use as a context manager. ``requests`` lists ``"METHOD /path"`` for every request seen,
    including the refused ones, so tests can assert that nothing reached the server.
    """

    def __init__(
        self,
        root: Path,
        *,
        redirect_to: str | None = None,
        stall_seconds: float = 0.0,
        auth_required: bool = False,
        allow_sha_fetch: bool = True,
        bytes_per_second: int | None = None,
    ) -> None:
        self.root = root
        self.redirect_to = redirect_to
        """When set, every request is answered with a 302 to this URL plus the request path."""
        self.stall_seconds = stall_seconds
        """Sleep this long before answering (cut short when the server closes)."""
        self.auth_required = auth_required
        """Answer every request with 401 and a Basic challenge."""
        self.allow_sha_fetch = allow_sha_fetch
        """Let clients fetch commits by sha (``uploadpack.allow*SHA1InWant``). Only protocol v0
        clients are refused without it: protocol v2 serves any commit the server has."""
        self.bytes_per_second = bytes_per_second
        """Trickle response bodies at about this rate, to watch a client mid-transfer."""
        self.requests: list[str] = []
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Httpd(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        # A short poll interval keeps closing the server quick.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        port: int = self._httpd.server_address[1]
        return port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, repo_name: str) -> str:
        return f"{self.base_url}/{repo_name}.git"

    def record(self, request: str) -> None:
        with self._lock:
            self.requests.append(request)

    def __enter__(self) -> GitServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def backend_env(self) -> dict[str, str]:
        env = {**_CLEAN_GIT_ENV, "GIT_PROJECT_ROOT": str(self.root), "GIT_HTTP_EXPORT_ALL": "1"}
        if self.allow_sha_fetch:
            env.update(
                {
                    "GIT_CONFIG_COUNT": "2",
                    "GIT_CONFIG_KEY_0": "uploadpack.allowReachableSHA1InWant",
                    "GIT_CONFIG_VALUE_0": "true",
                    "GIT_CONFIG_KEY_1": "uploadpack.allowAnySHA1InWant",
                    "GIT_CONFIG_VALUE_1": "true",
                }
            )
        return env


class _Httpd(ThreadingHTTPServer):
    daemon_threads = True
    owner: GitServer


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so that git may send chunked request bodies; every answer has a length.
    protocol_version = "HTTP/1.1"
    server: _Httpd

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request list is what tests look at."""

    def _serve(self) -> None:
        owner = self.server.owner
        owner.record(f"{self.command} {self.path}")
        body = self._read_body()
        if owner.stall_seconds and owner.closing.wait(owner.stall_seconds):
            return
        if owner.redirect_to is not None:
            self._answer(302, {"Location": owner.redirect_to + self.path}, b"")
        elif owner.auth_required:
            self._answer(401, {"WWW-Authenticate": 'Basic realm="git"'}, b"")
        else:
            self._run_backend(owner, body)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Skip trailers up to the empty line that ends the body.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _run_backend(self, owner: GitServer, body: bytes) -> None:
        path, _, query = self.path.partition("?")
        env = owner.backend_env()
        env.update(
            {
                "GATEWAY_INTERFACE": "CGI/1.1",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": unquote(path),
                "QUERY_STRING": query,
                "REMOTE_ADDR": self.client_address[0],
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
            }
        )
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                env[key] = value
        result = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers[name] = value.strip()
        self._answer(status, headers, payload)

    def _answer(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self._write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (or was killed by its watchdog): nothing left to do.
            self.close_connection = True

    def _write(self, payload: bytes) -> None:
        rate = self.server.owner.bytes_per_second
        if rate is None:
            self.wfile.write(payload)
            return
        step = max(1, rate // 20)
        for start in range(0, len(payload), step):
            if self.server.owner.closing.is_set():
                return
            self.wfile.write(payload[start : start + step])
            self.wfile.flush()
            time.sleep(0.05)


def _git(git_dir: Path, *args: str, data: bytes | None = None, index: Path | None = None) -> str:
    env = {**_CLEAN_GIT_ENV, **_IDENTITY}
    if index is not None:
        env["GIT_INDEX_FILE"] = str(index)
    result = subprocess.run(
        ["git", "--git-dir", str(git_dir), *args],
        input=data,
        env=env,
        capture_output=True,
        check=True,
    )
    return result.stdout.decode().strip()


def _commit(
    git_dir: Path,
    files: Mapping[str, bytes],
    parent: str | None,
    message: str,
    gitlinks: Mapping[str, str] | None = None,
) -> str:
    """A commit holding exactly ``files`` (and gitlink entries ``path -> sha``)."""
    index = git_dir / "build-index"
    index.unlink(missing_ok=True)
    for path, content in files.items():
        blob = _git(git_dir, "hash-object", "-w", "--stdin", data=content)
        _git(git_dir, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", index=index)
    for path, sha in (gitlinks or {}).items():
        _git(git_dir, "update-index", "--add", "--cacheinfo", f"160000,{sha},{path}", index=index)
    tree = _git(git_dir, "write-tree", index=index)
    index.unlink()
    parents = ["-p", parent] if parent else []
    return _git(git_dir, "commit-tree", tree, *parents, "-m", message)


def make_repo(
    root: Path,
    name: str,
    files: Mapping[str, bytes],
    *,
    history: Sequence[Mapping[str, bytes]] = (),
    branches: Mapping[str, Mapping[str, bytes]] | None = None,
    tags: Mapping[str, Mapping[str, bytes]] | None = None,
    gitlinks: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Create the bare repository ``root/NAME.git`` and return the commit sha of every ref.

    ``main`` (the default branch) is ``history[0]``, ``history[1]``... and then ``files`` on top,
    with ``gitlinks`` (path -> commit sha, as submodules are recorded) in its last commit.
    Each branch and each annotated tag is one commit of its own files on top of ``main``.
    The result maps ``main``, branch and tag names, and ``history/N`` to commit shas.
    """
    git_dir = root / f"{name}.git"
    subprocess.run(
        ["git", "init", "--quiet", "--bare", "--initial-branch=main", str(git_dir)],
        env=_CLEAN_GIT_ENV,
        check=True,
    )
    shas: dict[str, str] = {}
    parent: str | None = None
    for number, snapshot in enumerate(history):
        parent = shas[f"history/{number}"] = _commit(git_dir, snapshot, parent, f"history {number}")
    main = shas["main"] = _commit(git_dir, files, parent, "main", gitlinks)
    _git(git_dir, "update-ref", "refs/heads/main", main)
    for branch, branch_files in (branches or {}).items():
        shas[branch] = _commit(git_dir, branch_files, main, f"branch {branch}")
        _git(git_dir, "update-ref", f"refs/heads/{branch}", shas[branch])
    for tag, tag_files in (tags or {}).items():
        shas[tag] = _commit(git_dir, tag_files, main, f"tag {tag}")
        _git(git_dir, "tag", "-a", "-m", f"release {tag}", tag, shas[tag])
    return shas
