"""Fixtures of the kubernetes match runner's end-to-end tests: the stand-in botarena image of
match pods' referees, made once per run in the run's Docker engine."""

from __future__ import annotations

import pytest

from support.docker import Engine
from support.referee_image import build_referee_image

REFEREE_IMAGE = "localhost/botarena-referee:test"


@pytest.fixture(scope="session")
def referee_image(docker_daemon: Engine, python_image: str) -> str:
    client = docker_daemon.client()
    try:
        return build_referee_image(client, python_image, REFEREE_IMAGE)
    finally:
        client.close()
