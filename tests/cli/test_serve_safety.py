"""``botarena serve`` keeps to loopback unless told otherwise and says where it really listens;
its data folder and files are its user's alone, tried as another local user."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.live import LiveServer, cli_env, free_port, run_cli
from support.services import require_service

NOBODY = 65534


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])  # noqa: S104 - refused, never bound
def test_a_public_address_needs_public(tmp_path: Path, host: str) -> None:
    env = cli_env(tmp_path, None)
    port = free_port()
    refused = run_cli(env, "serve", "--host", host, "--port", str(port))
    assert refused.returncode == 2
    assert f"Refusing to listen on {host}" in refused.stderr
    assert "--public" in refused.stderr and "demo admin" in refused.stderr
    # Nothing started: no listener, not even a data folder.
    assert not _listening(port)
    assert not (tmp_path / "data").exists()


def test_with_public_the_banner_names_the_real_address(tmp_path: Path) -> None:
    server = LiveServer(cli_env(tmp_path, None))
    server.start("--host", "0.0.0.0", "--public")  # noqa: S104 - a test server, stopped at once
    server.stop()
    assert f"http://0.0.0.0:{server.port}" in server.output
    assert f"http://127.0.0.1:{server.port}" not in server.output


@pytest.fixture
def open_parent() -> Iterator[Path]:
    """A folder every local user may enter (as a data folder's parent often is), so that only
    the data folder's own modes stand between another user and its files."""
    folder = Path(tempfile.mkdtemp(prefix="botarena-perm-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _as_nobody(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        user=NOBODY,
        group=NOBODY,
        extra_groups=[],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_data_folder_is_private(open_parent: Path) -> None:
    if os.geteuid() != 0:
        require_service("root", "trying another local user's access needs root to become one")
    # The attacker's reach, shown on a file the server did not make.
    control = open_parent / "public.txt"
    control.write_text("anyone may read this\n")
    control.chmod(0o644)
    assert _as_nobody("/bin/cat", str(control)).returncode == 0

    env = cli_env(open_parent, None)
    made = run_cli(env, "user", "create", "owner")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    server = LiveServer(env)
    server.start()
    try:
        headers = {"Authorization": f"Bearer {token}"}
        agent = httpx.post(
            f"{server.url}/api/v1/agents", json={"name": "p", "game": "rps"}, headers=headers
        ).json()
        archive = _zip({"main.py": b"print('hi')\n"})
        uploaded = httpx.post(
            f"{server.url}/api/v1/agents/{agent['id']}/submissions",
            files={"archive": ("bot.zip", archive, "application/zip")},
            headers=headers,
        )
        assert uploaded.status_code == 201, uploaded.text
    finally:
        server.stop()

    data = open_parent / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    made_by_server = [data / "botarena.db", data / "botarena.db-wal"]
    made_by_server += [p for p in (data / "archives").rglob("*") if p.is_dir()]
    for path in made_by_server:
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path} is open to others"
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.parent.parent == data / "archives" for p in files), "the archive was stored"
    # Tried for real: another user can neither list the folder nor read anything in it.
    assert _as_nobody("/bin/ls", str(data)).returncode != 0
    for path in files:
        tried = _as_nobody("/bin/cat", str(path))
        assert tried.returncode != 0 and "Permission denied" in tried.stderr, path


def test_an_existing_open_data_folder_is_narrowed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    migrated = run_cli(cli_env(tmp_path, None), "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "botarena.db").stat().st_mode) == 0o600


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()
