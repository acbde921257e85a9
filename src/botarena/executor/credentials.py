"""The certificates that let the platform and its executors know each other (mutual TLS).

The platform keeps a private certificate authority in its credentials folder (the data
folder's ``pki/`` unless ``BOTARENA_TLS_DIR`` says otherwise): ``ca.key``, readable by its
owner only, and ``ca.pem``. It signs two kinds of certificate:

- the **dispatcher**'s (common name ``botarena-dispatcher``), the only identity an executor
  answers; a fresh one is issued each time ``botarena serve`` starts;
- an **executor**'s (common name and DNS name ``botarena-executor``), which callers check
  every executor against whatever address they reach it at: the authority is private to
  the platform, so its signature is what names an executor, not the host it runs on.

An executor on another machine gets a bundle (``ca.pem``, ``executor.pem``, ``executor.key``)
made by ``botarena executor credentials`` on the server; it expires after
:data:`BUNDLE_DAYS` days and is made again the same way. The authority itself lasts ten
years. Keys are ECDSA P-256, written with mode 0600 in folders of mode 0700.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DISPATCHER = "botarena-dispatcher"
EXECUTOR = "botarena-executor"
CA_FILE = "ca.pem"
CA_KEY_FILE = "ca.key"
CA_DAYS = 3650
BUNDLE_DAYS = 90
# A certificate issued at start and kept only in the process's memory (the dispatcher's, the
# embedded executor's) lasts as long as the process: it must not lapse under a server that
# runs for months, and nobody can copy it from a disk.
PROCESS_DAYS = CA_DAYS
# The platform's own certificates are issued afresh at each start; a day's margin either side
# covers clocks that disagree a little.
_SKEW = dt.timedelta(days=1)


class CredentialsError(Exception):
    """A credentials folder is missing something or holds something unusable."""


@dataclass(frozen=True)
class Identity:
    """One side's certificate and key, and the authority it trusts, all PEM."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    @property
    def not_after(self) -> dt.datetime:
        return x509.load_pem_x509_certificate(self.cert_pem).not_valid_after_utc


class CertificateAuthority:
    """The platform's private authority, kept in ``folder``."""

    def __init__(
        self, folder: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey
    ):
        self.folder = folder
        self.certificate = certificate
        self._key = key

    @classmethod
    def open_or_create(cls, folder: Path) -> CertificateAuthority:
        """The authority in ``folder``, made there (mode 0700 folder, 0600 key) if absent."""
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        # Two servers starting at once on one folder must not each make half an authority.
        with open(folder / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            cls._create_unless_present(folder)
        return cls.load(folder)

    @staticmethod
    def _create_unless_present(folder: Path) -> None:
        cert_path, key_path = folder / CA_FILE, folder / CA_KEY_FILE
        if cert_path.exists() and not key_path.exists():
            raise CredentialsError(
                f"{folder} holds an executor's bundle, not the platform's authority: "
                "give botarena serve a folder of its own (BOTARENA_TLS_DIR)"
            )
        if not key_path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            now = dt.datetime.now(dt.UTC)
            certificate = authority_certificate(
                key, "botarena platform CA", now - _SKEW, now + dt.timedelta(days=CA_DAYS)
            )
            _write_private(key_path, _key_pem(key))
            _write_public(cert_path, certificate.public_bytes(serialization.Encoding.PEM))

    @classmethod
    def load(cls, folder: Path) -> CertificateAuthority:
        try:
            certificate = x509.load_pem_x509_certificate((folder / CA_FILE).read_bytes())
            key = serialization.load_pem_private_key(
                (folder / CA_KEY_FILE).read_bytes(), password=None
            )
        except (OSError, ValueError) as exc:
            raise CredentialsError(
                f"cannot read the platform's authority in {folder}: {exc}"
            ) from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CredentialsError(f"{folder / CA_KEY_FILE} is not an ECDSA key")
        return cls(folder, certificate, key)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, common_name: str, *, days: int = BUNDLE_DAYS) -> Identity:
        """A new key and certificate for ``common_name`` (:data:`DISPATCHER` or
        :data:`EXECUTOR`), valid for ``days`` days."""
        if common_name not in (DISPATCHER, EXECUTOR):
            raise ValueError(f"unknown role {common_name!r}")
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        usage = (
            ExtendedKeyUsageOID.CLIENT_AUTH
            if common_name == DISPATCHER
            else (ExtendedKeyUsageOID.SERVER_AUTH)
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _SKEW)
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        return Identity(
            self.pem, certificate.public_bytes(serialization.Encoding.PEM), _key_pem(key)
        )


def authority_certificate(
    key: ec.EllipticCurvePrivateKey,
    common_name: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.Certificate:
    """A self-signed certificate of an authority that signs certificates and nothing else."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )


def write_bundle(identity: Identity, folder: Path) -> None:
    """Write an executor's bundle to ``folder`` (made 0700): ca.pem, executor.pem, .key."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    _write_public(folder / CA_FILE, identity.ca_pem)
    _write_public(folder / f"{EXECUTOR}.pem", identity.cert_pem)
    _write_private(folder / f"{EXECUTOR}.key", identity.key_pem)


def read_bundle(folder: Path) -> Identity:
    """An executor's bundle from ``folder``; a clear error for what is missing or expired."""
    paths = [folder / CA_FILE, folder / f"{EXECUTOR}.pem", folder / f"{EXECUTOR}.key"]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise CredentialsError(
            f"{folder} lacks {', '.join(missing)}: make a bundle on the server with "
            "`botarena executor credentials --out FOLDER` and copy it here"
        )
    identity = Identity(*(path.read_bytes() for path in paths))
    try:
        expires = identity.not_after
    except ValueError as exc:
        raise CredentialsError(f"{paths[1]} is not a PEM certificate: {exc}") from exc
    if expires <= dt.datetime.now(dt.UTC):
        raise CredentialsError(
            f"the executor certificate in {folder} expired on {expires:%Y-%m-%d}: "
            "make a new bundle with `botarena executor credentials`"
        )
    return identity


def executor_identity(folder: Path) -> Identity:
    """What ``botarena executor`` serves with: a fresh certificate from the authority when
    ``folder`` holds it (the server's own machine), else the bundle copied into ``folder``."""
    if (folder / CA_KEY_FILE).is_file():
        return CertificateAuthority.load(folder).issue(EXECUTOR, days=PROCESS_DAYS)
    return read_bundle(folder)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    """Written whole under a temporary name, mode 0600 from the start, then renamed."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    os.replace(partial, path)


def _write_public(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
