"""Where the command line finds its server and token: environment first, then the config file.

The file is ``$XDG_CONFIG_HOME/botarena/config.toml`` (``~/.config/botarena/config.toml``),
written with mode 0600 because it holds a token.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SERVER = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class ClientConfig:
    """The server to talk to and the token to send (None: not signed in)."""

    server: str
    token: str | None


def config_path() -> Path:
    """The config file's location."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "botarena" / "config.toml"


def load_config(server_override: str | None = None) -> ClientConfig:
    """Server and token from ``--server``, ``BOTARENA_SERVER``/``BOTARENA_TOKEN``, the file."""
    stored: dict[str, object] = {}
    path = config_path()
    if path.is_file():
        try:
            stored = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"Cannot read {path}: {exc}") from exc
    server = (
        server_override
        or os.environ.get("BOTARENA_SERVER")
        or _string(stored.get("server"))
        or DEFAULT_SERVER
    )
    token = os.environ.get("BOTARENA_TOKEN") or _string(stored.get("token"))
    return ClientConfig(server=server.rstrip("/"), token=token)


def save_config(config: ClientConfig) -> Path:
    """Write server and token to the config file, readable by its owner only."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    lines = [f"server = {_toml_string(config.server)}"]
    if config.token:
        lines.append(f"token = {_toml_string(config.token)}")
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


class ConfigError(RuntimeError):
    """The config file exists but cannot be used."""


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _toml_string(value: str) -> str:
    # A JSON string with ASCII escapes is also a valid TOML basic string.
    return json.dumps(value, ensure_ascii=True)
