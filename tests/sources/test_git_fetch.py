"""Fetching agent code from Git URLs: refs, refusals, limits and the pinned address.

Every fetch talks to a real git server on 127.0.0.1. Loopback is internal, so tests name it
in the allow-list unless the refusal itself is tested.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from botarena.sources.git import FetchedSource, FetchError, FetchLimits, fetch_git
from botarena.sources.git.options import git_options, resolve_pin
from botarena.sources.urls import validate_code_url

from support.gitserver import GitServer, make_repo

MIB = 1024 * 1024
FAKE_NAME = "git.botarena.test"
MAIN_FILES = {"main.py": b"print('main')\n", "lib/util.py": b"X = 1\n"}
OLD_FILES = {"main.py": b"print('old')\n"}
DEV_FILES = {"main.py": b"print('dev')\n"}
TAG_FILES = {"main.py": b"print('v1')\n", "VERSION": b"1\n"}
PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fetch keeps the machine's proxy settings; the loopback server must be reached direct."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("repos")


@pytest.fixture(scope="module")
def shas(root: Path) -> dict[str, str]:
    """The repository ``agent``: two commits on main, a branch ``dev``, an annotated tag ``v1``."""
    return make_repo(
        root,
        "agent",
        MAIN_FILES,
        history=[OLD_FILES],
        branches={"dev": DEV_FILES},
        tags={"v1": TAG_FILES},
    )


@pytest.fixture(scope="module")
def big_repo(root: Path) -> str:
    """A repository of 4 MiB that does not compress."""
    make_repo(root, "big", {f"blob{n}.bin": os.urandom(MIB) for n in range(4)})
    return "big"


@pytest.fixture(scope="module")
def server(root: Path, shas: dict[str, str]) -> Iterator[GitServer]:
    with GitServer(root) as running:
        yield running


def allowed(server: GitServer) -> tuple[str, ...]:
    return (f"127.0.0.1:{server.port}",)


def fetch(
    server: GitServer,
    dest: Path,
    ref: str | None = None,
    *,
    repo: str = "agent",
    limits: FetchLimits = FetchLimits(timeout_seconds=10),  # noqa: B008 - frozen
    lines: list[str] | None = None,
) -> FetchedSource:
    return fetch_git(
        server.url_for(repo),
        ref,
        dest,
        allow_http=True,
        allow_hosts=allowed(server),
        limits=limits,
        on_output=None if lines is None else lines.append,
    )


def failure(server: GitServer, dest: Path, ref: str | None = None, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(server, dest, ref, **kwargs)
    assert not dest.exists()
    return info.value


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def fake_dns(monkeypatch: pytest.MonkeyPatch, name: str, *addresses: str) -> None:
    """Make ``name`` resolve to ``addresses``, in this process only (git cannot see it)."""
    real = socket.getaddrinfo

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return real(host, port, *args, **kwargs)
        answers = []
        for address in addresses:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            answers.append((family, socket.SOCK_STREAM, 6, "", (address, port)))
        return answers

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


# --------------------------------------------------------------------------- refs


def test_default_branch(server: GitServer, shas: dict[str, str], tmp_path: Path) -> None:
    lines: list[str] = []
    fetched = fetch(server, tmp_path / "code", lines=lines)
    assert fetched.path == tmp_path / "code"
    assert fetched.commit_sha == shas["main"]
    assert files_of(fetched.path) == MAIN_FILES
    assert not (fetched.path / ".git").exists()
    assert any(line.startswith("Cloning into") for line in lines)


def test_branch(server: GitServer, shas: dict[str, str], tmp_path: Path) -> None:
    fetched = fetch(server, tmp_path / "code", "dev")
    assert fetched.commit_sha == shas["dev"]
    assert files_of(fetched.path) == DEV_FILES


def test_annotated_tag_gives_the_commit(
    server: GitServer, shas: dict[str, str], tmp_path: Path
) -> None:
    fetched = fetch(server, tmp_path / "code", "v1")
    assert fetched.commit_sha == shas["v1"]
    assert files_of(fetched.path) == TAG_FILES


def test_full_sha_of_an_older_commit(
    server: GitServer, shas: dict[str, str], tmp_path: Path
) -> None:
    fetched = fetch(server, tmp_path / "code", shas["history/0"].upper())
    assert fetched.commit_sha == shas["history/0"]
    assert files_of(fetched.path) == OLD_FILES
    assert not (fetched.path / ".git").exists()


def test_missing_ref(server: GitServer, tmp_path: Path) -> None:
    lines: list[str] = []
    error = failure(server, tmp_path / "code", "v9", lines=lines)
    assert (error.reason, str(error)) == ("fetch_failed", "ref v9 does not exist in the repository")
    assert "Remote branch v9 not found" in error.log
    assert lines == error.log.splitlines()


def test_missing_commit(server: GitServer, tmp_path: Path) -> None:
    error = failure(server, tmp_path / "code", "1" * 40)
    assert str(error) == (
        f"commit {'1' * 40} could not be fetched: it is not in the repository, "
        "or the server does not allow fetching a commit by its sha"
    )


def test_missing_repository(server: GitServer, tmp_path: Path) -> None:
    error = failure(server, tmp_path / "code", repo="nope")
    assert str(error) == f"git could not fetch {server.url_for('nope')}: repository not found"


def test_an_option_is_no_ref(server: GitServer, tmp_path: Path) -> None:
    error = failure(server, tmp_path / "code", "--upload-pack=touch")
    assert str(error) == "ref '--upload-pack=touch' is not a valid branch, tag or commit"


# --------------------------------------------------------------------------- addresses


def test_internal_address_is_refused_before_git_runs(root: Path, tmp_path: Path) -> None:
    with GitServer(root) as lonely, pytest.raises(FetchError) as info:
        fetch_git(lonely.url_for("agent"), None, tmp_path / "code", allow_http=True, allow_hosts=())
    assert str(info.value) == "codeUrl host 127.0.0.1 is an internal address"
    assert (info.value.reason, info.value.log) == ("fetch_failed", "")
    assert lonely.requests == []
    assert not (tmp_path / "code").exists()


def test_http_needs_allow_http(server: GitServer, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"^codeUrl must use https://$"):
        fetch_git(
            server.url_for("agent"),
            None,
            tmp_path / "code",
            allow_http=False,
            allow_hosts=allowed(server),
        )


@pytest.mark.parametrize(
    "answers",
    [
        ("127.0.0.1",),
        ("93.184.215.14", "127.0.0.1"),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::1"),
    ],
)
def test_name_resolving_to_an_internal_address_is_refused(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: Sequence[str]
) -> None:
    fake_dns(monkeypatch, FAKE_NAME, *answers)
    with GitServer(root) as lonely, pytest.raises(FetchError) as info:
        fetch_git(
            f"http://{FAKE_NAME}:{lonely.port}/agent.git",
            None,
            tmp_path / "code",
            allow_http=True,
            allow_hosts=(),
        )
    assert str(info.value) == f"codeUrl host {FAKE_NAME} resolves to an internal address"
    assert lonely.requests == []


def test_git_connects_to_the_checked_address(
    server: GitServer, shas: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is known only to this process, so git can reach it only through the pin."""
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo(FAKE_NAME, server.port)
    fake_dns(monkeypatch, FAKE_NAME, "127.0.0.1")
    fetched = fetch_git(
        f"http://{FAKE_NAME}:{server.port}/agent.git",
        None,
        tmp_path / "code",
        allow_http=True,
        allow_hosts=(f"{FAKE_NAME}:{server.port}",),
        limits=FetchLimits(timeout_seconds=10),
    )
    assert fetched.commit_sha == shas["main"]


def test_unknown_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unknown(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    with pytest.raises(FetchError, match=r"^codeUrl host git\.example\.com does not resolve$"):
        fetch_git(
            "https://git.example.com/a.git", None, tmp_path / "c", allow_http=False, allow_hosts=()
        )


def test_the_pin_covers_every_checked_address() -> None:
    checked = validate_code_url(
        "https://git.example.com:8443/a.git", allow_http=False, allow_hosts=()
    )
    addresses = [ipaddress.ip_address("2001:4860::1"), ipaddress.ip_address("8.8.8.8")]
    pin = "git.example.com:8443:[2001:4860::1],8.8.8.8"
    assert resolve_pin(checked, addresses) == pin
    assert f"http.curloptResolve={pin}" in git_options(checked, addresses, allow_http=False)
    literal = validate_code_url("https://8.8.8.8/a.git", allow_http=False, allow_hosts=())
    assert resolve_pin(literal, [ipaddress.ip_address("8.8.8.8")]) is None


def test_redirect_is_not_followed(root: Path, tmp_path: Path) -> None:
    with GitServer(root) as target, GitServer(root, redirect_to=target.base_url) as redirecting:
        with pytest.raises(FetchError) as info:
            fetch_git(
                redirecting.url_for("agent"),
                None,
                tmp_path / "code",
                allow_http=True,
                allow_hosts=(*allowed(redirecting), *allowed(target)),
            )
        assert str(info.value) == (
            f"git could not fetch {redirecting.url_for('agent')}: "
            "the server answered with a redirect, which is not followed"
        )
        assert redirecting.requests != []
        assert target.requests == []


def test_no_password_prompt(root: Path, tmp_path: Path) -> None:
    with GitServer(root, auth_required=True) as private:
        started = time.monotonic()
        error = failure(private, tmp_path / "code")
    assert time.monotonic() - started < 5
    assert str(error).endswith(
        "the repository asks for credentials; only public repositories can be fetched"
    )


# --------------------------------------------------------------------------- limits


def test_repository_over_the_size_limit(server: GitServer, big_repo: str, tmp_path: Path) -> None:
    error = failure(server, tmp_path / "code", repo=big_repo, limits=FetchLimits(max_bytes=MIB))
    assert (error.reason, str(error)) == ("fetch_failed", "the repository is larger than 1 MiB")


def test_size_limit_stops_the_transfer(root: Path, big_repo: str, tmp_path: Path) -> None:
    # At 1 MiB/s the whole pack takes four seconds; the watchdog must stop it at about 1 MiB.
    with GitServer(root, bytes_per_second=MIB) as slow:
        started = time.monotonic()
        error = failure(slow, tmp_path / "code", repo=big_repo, limits=FetchLimits(max_bytes=MIB))
        elapsed = time.monotonic() - started
    assert str(error) == "the repository is larger than 1 MiB"
    assert elapsed < 3


def test_stalled_server_times_out(root: Path, tmp_path: Path) -> None:
    with GitServer(root, stall_seconds=30) as stalled:
        started = time.monotonic()
        error = failure(stalled, tmp_path / "code", limits=FetchLimits(timeout_seconds=2))
        elapsed = time.monotonic() - started
    assert (error.reason, str(error)) == ("timeout", "fetching took longer than 2 s")
    assert elapsed < 3


def test_failure_empties_an_existing_destination(server: GitServer, tmp_path: Path) -> None:
    dest = tmp_path / "code"
    dest.mkdir()
    with pytest.raises(FetchError):
        fetch(server, dest, "v9")
    assert dest.is_dir() and list(dest.iterdir()) == []


def test_destination_must_be_empty(server: GitServer, tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "left-over").write_text("x")
    with pytest.raises(ValueError, match="must not exist or be an empty folder"):
        fetch(server, tmp_path / "code")


# --------------------------------------------------------------------------- repository content


def test_submodules_are_not_fetched(root: Path, server: GitServer, tmp_path: Path) -> None:
    inner = make_repo(root, "inner", {"secret.txt": b"inner\n"})["main"]
    gitmodules = f'[submodule "sub"]\n\tpath = sub\n\turl = file://{root}/inner.git\n'
    make_repo(root, "outer", {".gitmodules": gitmodules.encode()}, gitlinks={"sub": inner})
    fetched = fetch(server, tmp_path / "code", repo="outer")
    assert files_of(fetched.path) == {".gitmodules": gitmodules.encode()}
    assert not any((fetched.path / "sub").iterdir())


def test_configuration_from_the_environment_is_ignored(
    server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hook set through the server's environment or home folder never runs."""
    marker = tmp_path / "hook-ran"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "post-checkout").write_text(f"#!/bin/sh\necho ran >> '{marker}'\n")
    (hooks / "post-checkout").chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(f"[core]\n\thooksPath = {hooks}\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.hooksPath")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(hooks))

    # Without the fetch's precautions the hook does run: the test would notice.
    plain = ["git", "clone", "--quiet", server.url_for("agent"), str(tmp_path / "plain")]
    subprocess.run(plain, check=True, capture_output=True)
    assert marker.read_text() == "ran\n"
    marker.unlink()

    fetch(server, tmp_path / "code")
    assert not marker.exists()
    checked = validate_code_url(
        server.url_for("agent"), allow_http=True, allow_hosts=allowed(server)
    )
    assert f"core.hooksPath={os.devnull}" in git_options(checked, [], allow_http=True)
