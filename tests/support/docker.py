"""A throwaway Docker engine, a registry on loopback, and a base image made from this machine.

``start_docker()`` runs Debian's ``dockerd`` with its data, state and socket in a private
temporary folder; ``start_registry()`` runs Debian's ``docker-registry`` on a free port of
127.0.0.1 (which the engine treats as an insecure registry by default). No public registry is
reachable here, so ``build_python_image()`` makes a ``python:3.11-slim``-like image from the
host's own Python: the interpreter tree, the shared libraries it links, ``/bin/sh`` and a few
core tools, imported as one layer.

Nothing happens at import time.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker

_START_WAIT_SECONDS = 30
GVISOR = "runsc"
_TOOLS = (
    "sh",
    "mkdir",
    "rm",
    "cp",
    "ls",
    "cat",
    "env",
    "id",
    "chmod",
    "ln",
    "true",
    "sed",
    "awk",
    "grep",
)
# What python:3.11-slim also has (all of glibc) and compiled wheels (numpy) link.
_EXTRA_LIBRARIES = (
    "libstdc++.so.6",
    "libgcc_s.so.1",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libutil.so.1",
)
_SKIPPED_STDLIB = frozenset({"test", "site-packages", "tkinter", "idlelib", "turtledemo"})


class DockerUnavailableError(RuntimeError):
    """The engine or the registry could not be started here."""


@dataclass
class Engine:
    """A running engine that serves the Engine API (``dockerd``, or ``podman system
    service``), and where it listens."""

    name: str
    root: Path
    process: subprocess.Popen[bytes]
    command: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"unix://{self.root / 'engine.sock'}"

    def client(self) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.url, timeout=120)

    def interrupt(self) -> None:
        """A normal stop of the engine (SIGTERM), as a restart of its service does; its
        folder is kept for :meth:`restart`."""
        self.process.terminate()
        self.process.wait(30)

    def restart(self) -> None:
        """Start the engine again on its folder, after :meth:`interrupt`."""
        again = _start_engine(self.name, self.root, self.command, self.environment, keep=True)
        self.process = again.process

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        # Containers' overlay mounts can outlive a killed daemon: unmount before removing.
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            mounts = Path("/proc/mounts").read_text().splitlines()
            for line in reversed(mounts):
                target = line.split()[1]
                if target.startswith(str(self.root)):
                    subprocess.run(["umount", "-l", target], check=False, timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


def start_docker(config: dict[str, object] | None = None) -> Engine:
    """Start a private ``dockerd``, ``config`` added to its daemon.json; raise
    DockerUnavailableError with its log when it cannot."""
    binary = shutil.which("dockerd")
    if binary is None or os.geteuid() != 0:
        raise DockerUnavailableError("dockerd is not installed (or the tests do not run as root)")
    # A Unix socket path is limited to 107 bytes: keep the folder short.
    root = Path(tempfile.mkdtemp(prefix="bdk-", dir="/tmp"))
    config = dict(config or {})
    runsc = shutil.which("runsc")
    if runsc:
        # gVisor, for the runner's BOTARENA_DOCKER_RUNTIME; it needs its own network off.
        config["runtimes"] = {GVISOR: {"path": runsc, "runtimeArgs": ["--network=none"]}}
    (root / "daemon.json").write_text(json.dumps(config))
    return _start_engine(
        "dockerd",
        root,
        [
            binary,
            "--config-file",
            str(root / "daemon.json"),
            "--data-root",
            str(root / "data"),
            "--exec-root",
            str(root / "exec"),
            "--pidfile",
            str(root / "dockerd.pid"),
            "--host",
            f"unix://{root / 'engine.sock'}",
            "--bridge",
            "none",
            "--iptables=false",
            "--storage-driver",
            "overlay2",
        ],
        {},
    )


def start_podman(insecure_registry: str) -> Engine:
    """Start podman's API service with private storage, runc and cgroupfs (what works here),
    trusting ``insecure_registry`` over plain HTTP; raise DockerUnavailableError when it
    cannot."""
    binary = shutil.which("podman")
    if binary is None or shutil.which("runc") is None or os.geteuid() != 0:
        raise DockerUnavailableError("podman or runc is not installed (or not running as root)")
    root = Path(tempfile.mkdtemp(prefix="bpm-", dir="/tmp"))
    (root / "registries.conf").write_text(
        f'[[registry]]\nlocation = "{insecure_registry}"\ninsecure = true\n'
    )
    # The service's own default limits are above what this host lets it raise them to.
    (root / "containers.conf").write_text(
        '[containers]\ndefault_ulimits = ["nofile=1024:1024"]\n'
        '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
    )
    environment = {
        **os.environ,
        "CONTAINERS_CONF": str(root / "containers.conf"),
        "CONTAINERS_REGISTRIES_CONF": str(root / "registries.conf"),
    }
    command = [
        binary,
        "--root",
        str(root / "storage"),
        "--runroot",
        str(root / "run"),
        "--storage-driver",
        "overlay",
        "system",
        "service",
        "--time=0",
        f"unix://{root / 'engine.sock'}",
    ]
    return _start_engine("podman", root, command, environment)


def _start_engine(
    name: str, root: Path, command: list[str], environment: dict[str, str], *, keep: bool = False
) -> Engine:
    log = (root / "engine.log").open("ab")
    process = subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=environment or None,
        # In its own folder: podman's container monitor writes an "oom" marker into its
        # working folder when a container is killed for memory (it landed in the checkout).
        cwd=root,
    )
    engine = Engine(name, root, process, command, environment)
    deadline = time.monotonic() + _START_WAIT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(Exception):
            engine.client().ping()
            return engine
        time.sleep(0.2)
    text = (root / "engine.log").read_text(errors="replace")[-3000:]
    if not keep:
        engine.stop()
    raise DockerUnavailableError(f"{name} did not start:\n{text}")


@dataclass
class Registry:
    """A running ``docker-registry`` on loopback."""

    root: Path
    process: subprocess.Popen[bytes]
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        if self.process.poll() is None:
            self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def start_registry() -> Registry:
    binary = shutil.which("docker-registry")
    if binary is None:
        raise DockerUnavailableError("docker-registry is not installed")
    root = Path(tempfile.mkdtemp(prefix="botarena-registry-"))
    port = _free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log = (root / "registry.log").open("wb")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    registry = Registry(root, process, port)
    deadline = time.monotonic() + _START_WAIT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return registry
        time.sleep(0.1)
    text = (root / "registry.log").read_text(errors="replace")[-2000:]
    registry.stop()
    raise DockerUnavailableError(f"docker-registry did not start:\n{text}")


def build_python_image(client: docker.DockerClient, reference: str) -> str:
    """Import an image with the host's Python at ``/usr/local`` (as ``python:3.11-slim`` has
    it), ``/bin/sh``, a few core tools and the CA bundle; return ``reference``."""
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "rootfs.tar"
        with tarfile.open(archive, "w") as tar:
            for source, target in _python_files():
                tar.add(source, arcname=target.lstrip("/"), recursive=False)
            _add_text(
                tar,
                "etc/passwd",
                "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n",
            )
            _add_text(tar, "etc/group", "root:x:0:\nnogroup:x:65534:\n")
            for name in ("tmp", "root", "etc/ssl/certs"):
                info = tarfile.TarInfo(name)
                info.type = tarfile.DIRTYPE
                info.mode = 0o1777 if name == "tmp" else 0o755
                tar.addfile(info)
            tar.add("/etc/ssl/certs/ca-certificates.crt", "etc/ssl/certs/ca-certificates.crt")
            version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
            for link in ("python3", "python"):
                info = tarfile.TarInfo(f"usr/local/bin/{link}")
                info.type = tarfile.SYMTYPE
                info.linkname = version
                tar.addfile(info)
        repository, tag = reference.rsplit(":", 1)
        imported = client.api.import_image(
            src=str(archive),
            repository=repository,
            tag=tag,
            changes=[
                "ENV PATH=/usr/local/bin:/usr/bin:/bin",
                "ENV LANG=C.UTF-8",
                'CMD ["python3"]',
            ],
        )
        # podman's service leaves the tag out of an import's name: name it explicitly.
        image_id = _imported_id(imported)
        client.api.tag(image_id, repository, tag)
    return reference


def _imported_id(answer: object) -> str:
    """The image id in an import's answer (JSON lines of progress, the last with it)."""
    text = answer.decode() if isinstance(answer, bytes) else str(answer)
    for line in reversed(text.strip().splitlines()):
        with contextlib.suppress(ValueError):
            data = json.loads(line)
            found = data.get("id") or data.get("status")
            if isinstance(found, str) and found.startswith("sha256:"):
                return found
    raise DockerUnavailableError(f"the engine's answer to the import names no image: {text}")


def _python_files() -> Iterator[tuple[str, str]]:
    """(host path, image path) pairs: the interpreter tree moved to /usr/local, and every
    shared library that it and the tools link, at their own paths."""
    prefix = Path(sys.base_prefix).resolve()
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    stdlib = Path(sysconfig.get_path("stdlib", vars={"installed_base": str(prefix)}))
    libraries: set[str] = set()
    binary = (prefix / "bin" / version).resolve()
    yield str(binary), f"/usr/local/bin/{version}"
    libraries.update(_linked(binary))
    shared = prefix / "lib" / f"lib{version}.so.1.0"  # a shared-library build of Python
    if shared.exists():
        yield str(shared), f"/usr/local/lib/{shared.name}"
        # The interpreter's run path names its build folder: put it where the loader looks.
        yield str(shared), f"/usr/lib/{_multiarch()}/{shared.name}"
    for root, dirs, files in os.walk(stdlib):
        relative = Path(root).relative_to(stdlib)
        if relative == Path("."):
            dirs[:] = [d for d in dirs if d not in _SKIPPED_STDLIB]
        yield root, f"/usr/local/lib/{version}/{relative}".rstrip("/.")
        for name in files:
            if name.startswith("_tkinter"):
                continue
            path = Path(root, name)
            yield str(path), f"/usr/local/lib/{version}/{relative / name}"
            if name.endswith(".so"):
                libraries.update(_linked(path))
    site = stdlib / "site-packages"
    yield str(site), f"/usr/local/lib/{version}/site-packages"
    for entry in site.iterdir():
        if entry.name == "pip" or (entry.name.startswith("pip-") and entry.is_dir()):
            for root, _dirs, files in os.walk(entry):
                relative = Path(root).relative_to(site)
                yield root, f"/usr/local/lib/{version}/site-packages/{relative}"
                for name in files:
                    yield (
                        str(Path(root, name)),
                        (f"/usr/local/lib/{version}/site-packages/{relative / name}"),
                    )
    for tool in _TOOLS:
        found = shutil.which(tool, path="/usr/bin:/bin")
        if found:
            yield str(Path(found).resolve()), f"/bin/{tool}"
            libraries.update(_linked(Path(found).resolve()))
    for name in _EXTRA_LIBRARIES:
        for folder in (f"/lib/{_multiarch()}", f"/usr/lib/{_multiarch()}"):
            if Path(folder, name).exists():
                libraries.add(f"{folder}/{name}")
                libraries.update(_linked(Path(folder, name)))
                break
    for library in sorted(libraries):
        yield str(Path(library).resolve()), library


def _multiarch() -> str:
    return str(sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu")


def _linked(path: Path) -> set[str]:
    """The shared libraries ``path`` loads, from ``ldd``, pyenv's own excepted."""
    result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
    found = set()
    for line in result.stdout.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) >= 3 and parts[2].startswith("/"):
            if not parts[2].startswith(sys.base_prefix):
                found.add(parts[2])
        elif parts and parts[0].startswith("/"):
            found.add(parts[0])
    return found


def _add_text(tar: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
