"""Submissions by archive upload: stored by content when good, refused with nothing stored
when bad."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from botarena.settings import Settings

from support.accounts import Account
from support.api import zip_files as _zip

MAIN = b"def agent(observation, configuration):\n    return 0\n"


def _tar(add: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in add:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _file(name: str, data: bytes = MAIN) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _special(name: str, kind: bytes, target: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


def _stored_files(settings: Settings) -> list[Path]:
    root = settings.archive_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _upload(
    client: TestClient, account: Account, agent_id: str, data: bytes, filename: str
) -> dict:
    answer = client.post(
        f"/api/v1/agents/{agent_id}/submissions",
        files={"archive": (filename, data, "application/octet-stream")},
        headers=account.headers,
    )
    return {"status": answer.status_code, "body": answer.json()}


@pytest.mark.parametrize(
    ("filename", "data"),
    [
        ("bot.zip", _zip({"main.py": MAIN, "lib/util.py": b"X = 1\n"})),
        ("bot.tar.gz", _tar([_file("main.py"), _file("requirements.txt", b"numpy\n")])),
    ],
)
def test_good_archive_is_stored_by_content(
    client: TestClient,
    alice: Account,
    agent_id: str,
    settings: Settings,
    filename: str,
    data: bytes,
) -> None:
    result = _upload(client, alice, agent_id, data, filename)
    assert result["status"] == 201, result
    assert result["body"]["message"] == "Submission created successfully"
    sub = result["body"]["submission"]
    digest = hashlib.sha256(data).hexdigest()
    assert sub["archiveSha256"] == digest and sub["codeUrl"] is None
    assert sub["status"] == "pending" and sub["version"] == 1
    stored = _stored_files(settings)
    assert len(stored) == 1 and stored[0].read_bytes() == data
    assert stored[0].parent.name == digest[:2] and stored[0].name.startswith(digest)
    # The same bytes again: a new version, the same single stored file.
    again = _upload(client, alice, agent_id, data, filename)
    assert again["status"] == 201 and again["body"]["submission"]["version"] == 2
    assert _stored_files(settings) == stored


def _many_files() -> bytes:
    return _zip({f"f{i}.py": b"" for i in range(60)})


def _zip_bomb() -> bytes:
    return _zip({"main.py": MAIN, "zeros.bin": bytes(6 * 1024 * 1024)})


REFUSED = [
    ("absolute", "bot.tar.gz", _tar([_file("/etc/cron.d/evil")]), "absolute path"),
    ("dotdot", "bot.tar.gz", _tar([_file("main.py"), _file("../evil.py")]), "escapes"),
    ("zip-dotdot", "bot.zip", _zip({"main.py": MAIN, "a/../../evil.py": b""}), "escapes"),
    (
        "symlink-out",
        "bot.tar.gz",
        _tar([_file("main.py"), _special("passwd", tarfile.SYMTYPE, "/etc/passwd")]),
        "absolute path",
    ),
    (
        "symlink-up",
        "bot.tar.gz",
        _tar([_file("main.py"), _special("up", tarfile.SYMTYPE, "../../etc")]),
        "outside the archive",
    ),
    (
        "hardlink-out",
        "bot.tar.gz",
        _tar([_file("main.py"), _special("h", tarfile.LNKTYPE, "../../etc/shadow")]),
        "outside the archive",
    ),
    (
        "device",
        "bot.tar.gz",
        _tar([_file("main.py"), _special("sda", tarfile.BLKTYPE)]),
        "device file",
    ),
    ("chardev", "bot.tar.gz", _tar([_file("main.py"), _special("tty", tarfile.CHRTYPE)]), "device"),
    ("fifo", "bot.tar.gz", _tar([_file("main.py"), _special("p", tarfile.FIFOTYPE)]), "FIFO"),
    ("too-many-files", "bot.zip", _many_files(), "more than 50 entries"),
    ("zip-bomb", "bot.zip", _zip_bomb(), "unpacks to more than"),
    ("not-an-archive", "bot.zip", b"just some text, not a zip", "neither a zip"),
    ("empty", "bot.zip", b"", "empty"),
    ("wrong-extension", "bot.zip", _tar([_file("main.py")]), ""),
]


@pytest.mark.parametrize(
    ("case", "filename", "data", "expected"), REFUSED, ids=[r[0] for r in REFUSED]
)
def test_bad_archive_is_refused_and_nothing_stored(
    client: TestClient,
    alice: Account,
    agent_id: str,
    settings: Settings,
    case: str,
    filename: str,
    data: bytes,
    expected: str,
) -> None:
    result = _upload(client, alice, agent_id, data, filename)
    assert result["status"] == 400, (case, result)
    assert expected in result["body"]["error"], (case, result)
    assert result["body"]["message"] == "The archive was not stored."
    assert _stored_files(settings) == []
    assert client.get("/api/v1/submissions").json()["total"] == 0
    assert client.get(f"/api/v1/agents/{agent_id}").json()["submissions"] == []


def test_archive_over_the_size_limit_is_413(
    client: TestClient, alice: Account, agent_id: str, settings: Settings
) -> None:
    # Incompressible bytes: over the 1 MiB compressed limit of the test settings.
    noise = hashlib.shake_256(b"seed").digest(1024 * 1024 + 10)
    data = _zip({"main.py": MAIN, "noise.bin": noise})
    result = _upload(client, alice, agent_id, data, "bot.zip")
    assert result["status"] == 413
    assert result["body"]["error"] == "The archive is larger than the 1 MiB limit"
    assert _stored_files(settings) == []
    assert client.get("/api/v1/submissions").json()["total"] == 0


def test_body_far_over_the_limit_is_cut_off(
    client: TestClient, alice: Account, agent_id: str, settings: Settings
) -> None:
    huge = b"\0" * (3 * 1024 * 1024)
    result = _upload(client, alice, agent_id, huge, "bot.zip")
    assert result["status"] == 413
    assert result["body"]["error"] == "Request body too large"
    assert _stored_files(settings) == []


def test_missing_archive_field_is_422(client: TestClient, alice: Account, agent_id: str) -> None:
    answer = client.post(
        f"/api/v1/agents/{agent_id}/submissions",
        files={"file": ("bot.zip", _zip({"main.py": MAIN}), "application/zip")},
        headers=alice.headers,
    )
    assert answer.status_code == 422
    assert answer.json()["fields"][0]["field"] == "archive"


def test_upload_rules_for_other_users(
    client: TestClient, alice: Account, bob: Account, agent_id: str, settings: Settings
) -> None:
    data = _zip({"main.py": MAIN})
    by_bob = _upload(client, bob, agent_id, data, "bot.zip")
    assert by_bob["status"] == 403
    assert by_bob["body"] == {"error": "Only the members of the agent's team can submit to it"}
    anonymous = client.post(
        f"/api/v1/agents/{agent_id}/submissions", files={"archive": ("bot.zip", data)}
    )
    assert anonymous.status_code == 401
    nowhere = _upload(client, alice, "agt-missing", data, "bot.zip")
    assert nowhere["status"] == 404
    assert _stored_files(settings) == []


def test_streamed_body_over_the_limit_is_cut_off(
    client: TestClient, alice: Account, agent_id: str, settings: Settings
) -> None:
    def chunks():  # no Content-Length: the body arrives in pieces
        yield b"--xyz\r\nContent-Disposition: form-data; name=archive; filename=b.zip\r\n\r\n"
        for _ in range(48):
            yield b"\0" * 65536

    answer = client.post(
        f"/api/v1/agents/{agent_id}/submissions",
        content=chunks(),
        headers={**alice.headers, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"] == "Request body too large"
    assert _stored_files(settings) == []
