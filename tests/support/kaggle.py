"""Kaggle's own ConnectX ``negamax_agent``, taken from the official wheel at test time.

The point is to show that an agent written for Kaggle runs on botarena unchanged, without the
repository carrying a copy of Kaggle's code. :func:`kaggle_negamax_folder` downloads the wheel
of kaggle-environments (once: it is kept in the cache folder the caller gives), reads
``connectx.py`` from it, and writes an agent folder whose ``main.py`` holds the source text of
``negamax_agent`` and of every module-level statement it needs (imports, constants and helper
functions, found with :mod:`ast` and :mod:`symtable`), unchanged and in their original order.

pip runs with the environment of the test run, so the machine's pip configuration applies.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import subprocess
import symtable
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

KAGGLE_VERSION = "1.33.2"
WHEEL_NAME = f"kaggle_environments-{KAGGLE_VERSION}-py3-none-any.whl"
# The digest PyPI publishes for the wheel: a cached file that differs is downloaded again.
WHEEL_SHA256 = "72b5aa61f66432950dec3e527a55d7f580f0fc2a49e7f85f168df0746727bccc"
CONNECTX_MEMBER = "kaggle_environments/envs/connectx/connectx.py"
AGENT_FUNCTION = "negamax_agent"
DOWNLOAD_TIMEOUT = 600  # seconds; the wheel is about 65 MB

# Phrases of pip's output that mean the package index could not be reached. With no retries
# pip reports no connection error at its default verbosity, only that the index listed no
# version at all, which for a published package means the index was not read either.
NETWORK_FAILURES = (
    "NewConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ProxyError",
    "Max retries exceeded",
    "Connection broken",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Connection refused",
    "Connection reset",
    "Read timed out",
    "(from versions: none)",
)


class KaggleWheelError(RuntimeError):
    """The wheel could not be had; ``network`` is True when the package index was unreachable."""

    def __init__(self, message: str, *, network: bool = False) -> None:
        super().__init__(message)
        self.network = network


def kaggle_negamax_folder(cache: Path) -> Path:
    """An agent folder (``<cache>/kaggle-negamax``) whose ``main.py`` is Kaggle's negamax agent.

    The wheel is downloaded into ``cache`` on the first call and reused afterwards; the folder
    and its ``main.py`` are written anew on every call. Raises :class:`KaggleWheelError` when
    the wheel cannot be downloaded or does not hold the agent.
    """
    cache.mkdir(parents=True, exist_ok=True)
    wheel = ensure_wheel(cache)
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read(CONNECTX_MEMBER).decode("utf-8")
    text = extract_function(source, AGENT_FUNCTION, filename=CONNECTX_MEMBER)
    folder = cache / "kaggle-negamax"
    folder.mkdir(exist_ok=True)
    header = (
        f"# Written at test time from kaggle-environments {KAGGLE_VERSION}, {CONNECTX_MEMBER}\n"
        f"# (Apache License 2.0): {AGENT_FUNCTION} and what it needs, unchanged.\n\n"
    )
    _write_atomically(folder / "main.py", header + text)
    return folder


def ensure_wheel(cache: Path) -> Path:
    """The wheel in ``cache``, downloaded with pip when it is missing or not the right file."""
    wheel = cache / WHEEL_NAME
    if _is_good_wheel(wheel):
        return wheel
    with tempfile.TemporaryDirectory(prefix="download-", dir=cache) as scratch:
        command = [
            *pip_command(),
            "download",
            "--no-deps",
            "--only-binary=:all:",
            f"kaggle-environments=={KAGGLE_VERSION}",
            "-d",
            scratch,
        ]
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=DOWNLOAD_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise KaggleWheelError(
                f"pip download of kaggle-environments {KAGGLE_VERSION} took more than "
                f"{DOWNLOAD_TIMEOUT} seconds",
                network=True,
            ) from exc
        except OSError as exc:
            raise KaggleWheelError(f"pip could not be started: {exc}") from exc
        downloaded = Path(scratch) / WHEEL_NAME
        if result.returncode != 0 or not downloaded.is_file():
            output = (result.stdout + result.stderr).strip()
            raise KaggleWheelError(
                f"pip download of kaggle-environments {KAGGLE_VERSION} failed "
                f"(exit {result.returncode}): {_tail(output)}",
                network=any(phrase in output for phrase in NETWORK_FAILURES),
            )
        if not _is_good_wheel(downloaded):
            raise KaggleWheelError(
                f"the downloaded {WHEEL_NAME} is not the published wheel (sha256 differs)"
            )
        os.replace(downloaded, wheel)
    return wheel


def pip_command() -> list[str]:
    """pip of this interpreter, or of the real interpreter behind a virtualenv without pip."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    return [os.path.realpath(sys.executable), "-m", "pip"]


def extract_function(source: str, name: str, *, filename: str = "<source>") -> str:
    """The module-level statements that function ``name`` needs, itself last, as source text.

    A statement is needed when it binds a module-level name that a needed statement reads:
    the function's global names (in nested functions too, per :mod:`symtable`), and for any
    statement the names read when it runs at import time (decorators, defaults, values).
    Each statement's text is kept exactly; statements are separated by two blank lines.
    """
    tree = ast.parse(source, filename)
    scopes = _function_scopes(symtable.symtable(source, filename, "exec"))
    binders: dict[str, list[int]] = {}
    for index, statement in enumerate(tree.body):
        for bound in _bound_names(statement):
            binders.setdefault(bound, []).append(index)
    targets = [
        index
        for index, statement in enumerate(tree.body)
        if isinstance(statement, ast.FunctionDef) and statement.name == name
    ]
    if not targets:
        raise KaggleWheelError(f"{filename} defines no module-level function {name}")
    needed: set[int] = set()
    pending = [targets[-1]]
    while pending:
        index = pending.pop()
        if index in needed:
            continue
        needed.add(index)
        for read in _read_names(tree.body[index], scopes):
            pending.extend(binders.get(read, []))
    chosen = sorted(needed)
    last_definition = [
        index
        for index in chosen
        if isinstance(tree.body[index], ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ][-1]
    if last_definition != targets[-1]:
        # botarena takes the last function of main.py as the agent when none is named agent.
        raise KaggleWheelError(f"{name} is not the last definition it needs in {filename}")
    lines = source.splitlines()
    segments = []
    for index in chosen:
        statement = tree.body[index]
        first = min(
            [statement.lineno]
            + [decorator.lineno for decorator in getattr(statement, "decorator_list", [])]
        )
        end = statement.end_lineno or statement.lineno
        segments.append("\n".join(lines[first - 1 : end]))
    return "\n\n\n".join(segments) + "\n"


def _function_scopes(table: symtable.SymbolTable) -> dict[tuple[str, int], symtable.SymbolTable]:
    """The module's top-level function and class scopes, by (name, line of the def)."""
    return {(child.get_name(), child.get_lineno()): child for child in table.get_children()}


def _by_name(
    scopes: dict[tuple[str, int], symtable.SymbolTable], name: str
) -> symtable.SymbolTable | None:
    found = [scope for (scope_name, _), scope in scopes.items() if scope_name == name]
    return found[-1] if found else None


def _scope_globals(table: symtable.SymbolTable) -> set[str]:
    """Names that ``table`` or a scope nested in it reads from the module."""
    names = {
        symbol.get_name()
        for symbol in table.get_symbols()
        if symbol.is_global() and symbol.is_referenced()
    }
    for child in table.get_children():
        names |= _scope_globals(child)
    return names


def _read_names(
    statement: ast.stmt, scopes: dict[tuple[str, int], symtable.SymbolTable]
) -> set[str]:
    """Module-level names the statement reads, at import time or when its function runs."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        scope = scopes.get((statement.name, statement.lineno)) or _by_name(scopes, statement.name)
        names = _scope_globals(scope) if scope is not None else set()
        return names | _loaded_names(_import_time_parts(statement))
    return _loaded_names([statement])


def _import_time_parts(statement: ast.stmt) -> list[ast.AST]:
    """The parts of a def or class evaluated when the module runs, not when it is called."""
    parts: list[ast.AST] = list(getattr(statement, "decorator_list", []))
    if isinstance(statement, ast.ClassDef):
        parts += statement.bases + [keyword.value for keyword in statement.keywords]
    else:
        assert isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
        arguments = statement.args
        parts += [*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
        parts += [a.annotation for a in every if a.annotation is not None]
        if statement.returns is not None:
            parts.append(statement.returns)
    return parts


def _loaded_names(nodes: Iterable[ast.AST]) -> set[str]:
    return {
        node.id
        for root in nodes
        for node in ast.walk(root)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }


def _bound_names(statement: ast.stmt) -> set[str]:
    """Module-level names a top-level statement binds (not those inside its functions)."""
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return {
            alias.asname or alias.name.split(".")[0]
            for alias in statement.names
            if alias.name != "*"
        }
    names: set[str] = set()
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)  # defined in an if or a try at module level
            continue
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= _bound_names(node)
            continue
        elif isinstance(node, ast.Lambda | ast.comprehension):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return names


def _is_good_wheel(path: Path) -> bool:
    if not path.is_file():
        return False
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == WHEEL_SHA256


def _write_atomically(path: Path, text: str) -> None:
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)


def _tail(output: str, limit: int = 1500) -> str:
    return output if len(output) <= limit else "..." + output[-limit:]
