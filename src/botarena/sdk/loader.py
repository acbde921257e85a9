"""Finds the agent function in a participant's ``main.py``, the way Kaggle does."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

AgentFunction = Callable[[Any, Any], Any]


class AgentLoadError(Exception):
    """The file cannot be loaded or holds no agent function."""


def load_agent(path: Path) -> AgentFunction:
    """The callable named ``agent`` in ``path``, else the last callable the file defines.

    The file runs as a module named ``main`` with its folder first on ``sys.path``, so that it
    can import its own helper modules.
    """
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AgentLoadError(f"cannot read {path.name}: {exc}") from exc
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module = types.ModuleType("main")
    module.__file__ = str(path)
    sys.modules["main"] = module
    try:
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise AgentLoadError(f"{path.name} has a syntax error: {exc}") from exc
    exec(code, module.__dict__)  # noqa: S102 - this is the agent's own process, in its sandbox
    return _pick_agent(module, path.name)


def _pick_agent(module: types.ModuleType, filename: str) -> AgentFunction:
    namespace = module.__dict__
    named = namespace.get("agent")
    if callable(named):
        return named  # type: ignore[no-any-return]
    defined_here = [
        value
        for value in namespace.values()
        if callable(value) and getattr(value, "__module__", None) == module.__name__
    ]
    if defined_here:
        return defined_here[-1]  # type: ignore[no-any-return]
    anything = [v for k, v in namespace.items() if callable(v) and not k.startswith("__")]
    if anything:
        return anything[-1]  # type: ignore[no-any-return]
    raise AgentLoadError(
        f"{filename} defines no function: write def agent(observation, configuration)"
    )
