"""``fetch_git``: check a ``codeUrl`` again, then fetch one commit of it shallowly and safely."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from botarena.sources.addresses import IPAddress
from botarena.sources.git.messages import explain_fetch, explain_step
from botarena.sources.git.options import git_environment, git_options
from botarena.sources.git.output import OutputLog
from botarena.sources.git.runner import GitRunner
from botarena.sources.git.types import FetchedSource, FetchError, FetchLimits
from botarena.sources.urls import (
    CheckedUrl,
    SourceUrlError,
    resolve_public_addresses,
    validate_code_url,
)

_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")
_BAD_REF_CHAR = re.compile(r"[\x00-\x20\x7f]")


def fetch_git(
    code_url: str,
    ref: str | None,
    dest: Path,
    *,
    allow_http: bool,
    allow_hosts: Sequence[str],
    limits: FetchLimits = FetchLimits(),  # noqa: B008 - frozen, so one shared default is safe
    on_output: Callable[[str], None] | None = None,
) -> FetchedSource:
    """Fetch ``ref`` of ``code_url`` into ``dest``, which must not exist or be empty.

    ``ref`` is a branch or tag name, a full 40-hex commit sha, or None for the default
    branch. Only that one commit is fetched (depth 1). ``on_output`` receives git's output
    line by line, on the calling thread.

    Raises :class:`FetchError` with a sentence for the participant; ``dest`` is then left
    removed (or empty, if it existed before). A malformed ``allow_hosts`` entry raises a
    plain :class:`ValueError`, as it is the operator's mistake.
    """
    # Absolute, so that no folder name can be read as an option of a git command.
    dest = Path(os.path.abspath(dest))
    checked, addresses = _check_url(code_url, allow_http=allow_http, allow_hosts=allow_hosts)
    if ref is not None:
        _check_ref(ref)
    existed = _prepare(dest)
    log = OutputLog(on_output)
    try:
        with tempfile.TemporaryDirectory(prefix="botarena-git-home-") as home:
            runner = GitRunner(
                options=git_options(checked, addresses, allow_http=allow_http),
                env=git_environment(Path(home)),
                dest=dest,
                limits=limits,
                log=log,
            )
            if ref is not None and _FULL_SHA.fullmatch(ref):
                _fetch_commit(runner, checked.url, ref.lower(), dest)
            else:
                _clone(runner, checked.url, ref, dest)
            sha = _head_commit(runner, dest)
            runner.check_size()
        shutil.rmtree(dest / ".git")
    except BaseException:
        _clear(dest, keep_folder=existed)
        raise
    return FetchedSource(path=dest, commit_sha=sha)


def _check_url(
    code_url: str, *, allow_http: bool, allow_hosts: Sequence[str]
) -> tuple[CheckedUrl, list[IPAddress]]:
    """The URL checks of submission time again, and the one DNS lookup git will be held to."""
    try:
        checked = validate_code_url(code_url, allow_http=allow_http, allow_hosts=allow_hosts)
        addresses = resolve_public_addresses(checked.host, checked.port, allow_hosts=allow_hosts)
    except SourceUrlError as exc:
        raise FetchError("fetch_failed", str(exc)) from exc
    return checked, addresses


def _check_ref(ref: str) -> None:
    """Refuse what could be mistaken for an option; git itself judges the rest of the name.

    Submissions are checked more thoroughly when made; this guards other callers.
    """
    if not ref or ref.startswith("-") or _BAD_REF_CHAR.search(ref):
        raise FetchError("fetch_failed", f"ref {ref!r} is not a valid branch, tag or commit")


def _prepare(dest: Path) -> bool:
    """Check that ``dest`` is free to fetch into; return whether it existed already."""
    if not dest.exists():
        return False
    if not dest.is_dir() or any(dest.iterdir()):
        raise ValueError(f"fetch destination {dest} must not exist or be an empty folder")
    return True


def _clear(dest: Path, *, keep_folder: bool) -> None:
    if not dest.exists():
        return
    if not keep_folder:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _clone(runner: GitRunner, url: str, ref: str | None, dest: Path) -> None:
    branch = [] if ref is None else ["--branch", ref]
    result = runner.run(
        "clone",
        "--depth=1",
        "--single-branch",
        "--no-tags",
        "--no-recurse-submodules",
        # No template: nothing is copied into .git that the fetch did not bring.
        "--template=",
        *branch,
        "--",
        url,
        str(dest),
    )
    if result.returncode != 0:
        message = explain_fetch(result.lines, url=url, ref=ref, returncode=result.returncode)
        raise FetchError("fetch_failed", message, runner.log.text())


def _fetch_commit(runner: GitRunner, url: str, sha: str, dest: Path) -> None:
    """Fetch one commit by its sha, which the server must allow (protocol v2 servers do)."""
    init = runner.run("init", "--quiet", "--template=", "--initial-branch=main", str(dest))
    if init.returncode != 0:
        message = explain_step("create the repository", init.lines, returncode=init.returncode)
        raise FetchError("fetch_failed", message, runner.log.text())
    fetched = runner.run(
        "-C",
        str(dest),
        "fetch",
        "--depth=1",
        "--no-tags",
        "--no-recurse-submodules",
        "--",
        url,
        sha,
    )
    if fetched.returncode != 0:
        message = explain_fetch(fetched.lines, url=url, ref=sha, returncode=fetched.returncode)
        raise FetchError("fetch_failed", message, runner.log.text())
    checkout = runner.run(
        "-C", str(dest), "checkout", "--quiet", "--detach", "--no-recurse-submodules", "FETCH_HEAD"
    )
    if checkout.returncode != 0:
        message = explain_step("check out the code", checkout.lines, returncode=checkout.returncode)
        raise FetchError("fetch_failed", message, runner.log.text())


def _head_commit(runner: GitRunner, dest: Path) -> str:
    result = runner.run(
        "-C", str(dest), "rev-parse", "--verify", "--quiet", "HEAD^{commit}", quiet=True
    )
    sha = result.lines[-1] if result.returncode == 0 and result.lines else ""
    if not _FULL_SHA.fullmatch(sha):
        raise FetchError("fetch_failed", "the repository is empty", runner.log.text())
    return sha.lower()
