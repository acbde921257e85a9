"""A stand-in for the botarena image in the test engine, for match pods' referees.

No image of botarena can be built from a registry here, so this one is made from what the
tests already run: the base image (the host's own Python) plus this checkout's ``botarena``
package and the installed packages the referee imports (found by importing what it imports,
in a child process), with a ``botarena`` command on the path. Same interpreter, so the
packages' compiled parts work as they are. It runs as ``nobody``, like the real image.
``referee_image`` is the fixture (a plugin of tests/conftest.py).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

import docker
import pytest

import botarena

if TYPE_CHECKING:
    from support.docker import Engine

SITE = "/opt/botarena/site"
REFEREE_IMAGE = "localhost/botarena-referee:test"
# What ``botarena referee`` imports when it plays a match.
_IMPORTS = """
import contextlib, json, sys, tempfile
import botarena.executor.pipe_match
from botarena.cli.app import app
from botarena.games.registry import get_game, known_games
for game in known_games():
    get_game(game)
# Its options parsed as at a match's start (typer imports more as it parses).
with tempfile.TemporaryDirectory() as folder:
    for args in (["pipes", "--pipes", folder], ["--spec", "{}", "--pipes", folder], ["--help"]):
        with contextlib.suppress(BaseException):
            app(["referee", *args], standalone_mode=False)
print(json.dumps([getattr(m, "__file__", None) for m in list(sys.modules.values())]))
"""
_COMMAND = (
    "#!/usr/local/bin/python3\nimport sys\nfrom botarena.cli.app import main\nsys.exit(main())\n"
)


def _installed_parts() -> list[Path]:
    """The top-level modules and packages of site-packages the referee imports, and every
    distribution's metadata (some packages read their own version)."""
    source = Path(botarena.__file__).parent.parent
    found = subprocess.run(
        [sys.executable, "-c", _IMPORTS],
        env={"PYTHONPATH": str(source), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    # The last line: the help printed above it.
    files = [Path(f).resolve() for f in json.loads(found.stdout.splitlines()[-1]) if f]
    roots = {Path(p).resolve() for p in sys.path if p.endswith("site-packages")}
    parts: set[Path] = set()
    for path in files:
        for root in roots:
            if path.is_relative_to(root):
                top = root / path.relative_to(root).parts[0]
                parts.add(top)
                libs = top.with_name(f"{top.name}.libs")
                if libs.exists():
                    parts.add(libs)
    for root in roots:
        parts.update(root.glob("*.dist-info"))
    return sorted(parts)


def build_referee_image(client: docker.DockerClient, base_image: str, reference: str) -> str:
    """Build ``reference`` from ``base_image``; return it."""
    package = Path(botarena.__file__).parent
    context = io.BytesIO()
    skip = lambda info: None if "__pycache__" in info.name else info  # noqa: E731
    with tarfile.open(fileobj=context, mode="w") as tar:
        for part in _installed_parts():
            tar.add(part, arcname=f"site/{part.name}", filter=skip)
        tar.add(package, arcname="site/botarena", filter=skip)
        for name, text, mode in (
            ("botarena", _COMMAND, 0o755),
            (
                "Dockerfile",
                f"FROM {base_image}\n"
                f"COPY site/ {SITE}/\n"
                "COPY botarena /usr/local/bin/botarena\n"
                f"ENV PYTHONPATH={SITE} PYTHONDONTWRITEBYTECODE=1 HOME=/tmp\n"
                "USER 65534:65534\n"
                'ENTRYPOINT ["botarena"]\n',
                0o644,
            ),
        ):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    for chunk in client.api.build(
        fileobj=context, custom_context=True, tag=reference, rm=True, decode=True
    ):
        if "error" in chunk:
            raise RuntimeError(f"the referee image did not build: {chunk['error']}")
    return reference


@pytest.fixture(scope="session")
def referee_image(docker_daemon: Engine, python_image: str) -> str:
    """The stand-in botarena image in the run's dockerd, made once per run (a plugin of
    tests/conftest.py)."""
    client = docker_daemon.client()
    try:
        return build_referee_image(client, python_image, REFEREE_IMAGE)
    finally:
        client.close()
