"""Executors as the tests run them: served over mutual TLS with a test run's own authority,
their agents placed where an executor accepts them (``artifacts/`` of its data folder)."""

from __future__ import annotations

from pathlib import Path

from botarena.executor.client import ExecutorClient
from botarena.executor.credentials import DISPATCHER, CertificateAuthority


def authority(data_dir: Path) -> CertificateAuthority:
    """The platform's authority in ``data_dir``'s ``pki/``, made on first use."""
    return CertificateAuthority.open_or_create(data_dir / "pki")


def dispatcher_client(address: str, data_dir: Path) -> ExecutorClient:
    """A client holding the dispatcher's certificate of ``data_dir``'s authority."""
    return ExecutorClient(address, authority(data_dir).issue(DISPATCHER))


def artifact_folder(data_dir: Path, name: str, files: dict[str, str]) -> Path:
    """A folder holding ``files`` where a local artifact lives: artifacts/NAME/code."""
    folder = data_dir / "artifacts" / name / "code"
    folder.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        (folder / relative).write_text(text)
    return folder
