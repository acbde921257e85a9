"""The repository's Dockerfile builds the botarena image, offline, on the run's Docker engine,
and the image serves: non-root, read-only root filesystem, no capability.

Cost on two cores shared with other work (load 4 to 5): building the image 25 to 40 s
(without bytecode compilation, which would add 15 to 40 s), about 20 s more to fetch the
wheels on the host when the run's download cache is empty (``BOTARENA_TEST_CACHE`` keeps them
between runs), and 15 to 30 s for the four tests; the engine and the base image are the run's,
shared with the docker tests.
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from botarena.executor.credentials import EXECUTOR, CertificateAuthority, write_bundle

from support import helm
from support.docker import Engine
from support.kubefake import start_fake_kubernetes
from support.wheelhouse import ROOT, wheelhouse

# The build runs in the first test's setup: with a cold cache on a loaded machine, past 120 s.
pytestmark = pytest.mark.timeout(300)

IMAGE = "botarena-test/botarena:image-test"
CHART = ROOT / "deploy" / "helm" / "botarena"
FULL = "arena-botarena"
UID = 10001
# What the build context holds: the project, as .dockerignore lets it through.
_CONTEXT = ("Dockerfile", ".dockerignore", "pyproject.toml", "uv.lock", "README.md")


@pytest.fixture(scope="module")
def botarena_image(
    docker_daemon: Engine,
    python_image: str,
    download_cache: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    context = tmp_path_factory.mktemp("image-context")
    wheelhouse(download_cache, context / "wheelhouse")
    for name in _CONTEXT:
        shutil.copy2(ROOT / name, context / name)
    shutil.copytree(ROOT / "src", context / "src", ignore=shutil.ignore_patterns("__pycache__"))
    client = docker_daemon.client()
    try:
        try:
            client.images.build(
                path=str(context),
                tag=IMAGE,
                buildargs={
                    "PYTHON_IMAGE": python_image,
                    "WHEELHOUSE": "wheelhouse",
                    # Compiling every module to bytecode doubles the build's time here; the
                    # image works the same without it (only its first imports are slower).
                    "COMPILE_BYTECODE": "0",
                },
                rm=True,
                forcerm=True,
            )
        except docker.errors.BuildError as error:
            log = "".join(str(chunk.get("stream", "")) for chunk in error.build_log)
            pytest.fail(f"the image did not build: {error.msg}\n{log[-4000:]}")
        yield IMAGE
    finally:
        client.close()


def test_the_image_runs_botarena_as_its_unprivileged_user(
    docker_daemon: Engine, botarena_image: str
) -> None:
    client = docker_daemon.client()
    try:
        image = client.images.get(botarena_image)
        config = image.attrs["Config"]
        assert config["Entrypoint"] == ["botarena"]
        assert config["User"] == f"{UID}:{UID}"
        helped = client.containers.run(botarena_image, ["--help"], remove=True)
        assert b"serve" in helped and b"executor" in helped and b"migrate" in helped
        who = client.containers.run(
            botarena_image,
            ["-c", "import os; print(os.getuid(), os.getgid())"],
            entrypoint=["python3"],
            remove=True,
        )
        assert who.split() == [str(UID).encode(), str(UID).encode()]
    finally:
        client.close()


def test_the_image_serves_on_sqlite_with_a_read_only_root(
    docker_daemon: Engine, botarena_image: str
) -> None:
    """As the chart runs it: read-only root, every capability dropped, no new privileges, a
    writable data folder and /tmp only; migrated at start, /healthz answers."""
    client = docker_daemon.client()
    container = client.containers.run(
        botarena_image,
        detach=True,
        read_only=True,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        tmpfs={"/data": f"uid={UID},gid={UID},mode=0700", "/tmp": "mode=1777"},
        environment={
            "BOTARENA_BUILDS_ENABLED": "false",
            "BOTARENA_MATCHES_ENABLED": "false",
            "BOTARENA_LADDER_ENABLED": "false",
            "BOTARENA_LOG_FORMAT": "json",
        },
    )
    try:
        answer = _healthz(container)
        assert answer == '{"status":"ok"}', container.logs().decode(errors="replace")[-3000:]
        migrated = container.exec_run(
            ["python3", "-c", "import os; print(sorted(os.listdir('/data')))"]
        )
        assert b"botarena.db" in migrated.output
    finally:
        container.remove(force=True)
        client.close()


def test_the_image_serves_an_executor_with_a_bundle_read_only(
    docker_daemon: Engine, botarena_image: str, tmp_path: Path
) -> None:
    """As the chart runs an executor: its bundle mounted read-only, root read-only."""
    authority = CertificateAuthority.open_or_create(tmp_path / "pki")
    bundle = tmp_path / "bundle"
    write_bundle(authority.issue(EXECUTOR), bundle)
    # Readable by the image's user, as a Secret volume with the pod's fsGroup makes it.
    for path in (bundle, *bundle.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    client = docker_daemon.client()
    container = client.containers.run(
        botarena_image,
        ["executor", "--listen", "127.0.0.1:50051", "--http-listen", "127.0.0.1:9464"],
        detach=True,
        read_only=True,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        tmpfs={"/data": f"uid={UID},gid={UID},mode=0700", "/tmp": "mode=1777"},
        volumes={str(bundle): {"bind": "/var/run/botarena/tls", "mode": "ro"}},
        environment={"BOTARENA_TLS_DIR": "/var/run/botarena/tls"},
    )
    try:
        answer = _healthz(container, port=9464)
        assert answer == '{"status": "ok"}', answer
    finally:
        container.remove(force=True)
        client.close()


def _healthz(
    container: docker.models.containers.Container, seconds: float = 60, port: int = 8000
) -> str:
    """/healthz's body, asked from inside the container (no port published)."""
    probe = (
        "import urllib.request as u; "
        f"print(u.urlopen('http://127.0.0.1:{port}/healthz', timeout=2).read().decode())"
    )
    deadline = time.monotonic() + seconds
    while True:
        container.reload()
        if container.status == "running":
            result = container.exec_run(["python3", "-c", probe])
            if result.exit_code == 0:
                return str(result.output.decode().strip())
            container.reload()
        if container.status != "running" or time.monotonic() > deadline:
            return container.logs().decode(errors="replace")[-3000:]
        time.sleep(0.5)


def test_the_charts_server_pod_starts_in_the_image(
    docker_daemon: Engine, botarena_image: str, tmp_path: Path
) -> None:
    """The server pod as the chart renders it (its init container, then botarena serve with
    the dispatcher holding the chart's authority), run in the image with what the pod gets:
    a read-only root, every capability dropped, its emptyDirs root-owned and open as the
    kubelet makes them, the data volume group-owned by the fsGroup, the Secret read-only. The
    database is SQLite here (one HTTP worker): the pod's filesystem is what is checked."""
    release = render({"server": {"workers": 1}})
    spec = release.one("Deployment", f"{FULL}-server")["spec"]["template"]["spec"]
    [init] = spec["initContainers"]
    [main] = spec["containers"]
    secrets = tmp_path / "ca"
    secrets.mkdir()
    for key, value in release.one("Secret", f"{FULL}-ca")["data"].items():
        (secrets / key).write_bytes(base64.b64decode(value))
        (secrets / key).chmod(0o644)  # as a Secret volume with defaultMode 0440 and fsGroup
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    tmpfs, binds = {}, {}
    for mount in main["volumeMounts"] + init["volumeMounts"]:
        volume = volumes[mount["name"]]
        if "secret" in volume:
            binds[str(secrets)] = {"bind": mount["mountPath"], "mode": "ro"}
        elif "persistentVolumeClaim" in volume:
            # A volume as the kubelet hands it with fsGroup: root's, the group's, setgid.
            claim = tmp_path / mount["name"]
            claim.mkdir()
            os.chown(claim, 0, UID)
            claim.chmod(0o2775)
            binds[str(claim)] = {"bind": mount["mountPath"], "mode": "rw"}
        else:
            tmpfs[mount["mountPath"]] = "uid=0,gid=0,mode=1777"
    environment = {**release.one("ConfigMap", FULL)["data"]}
    environment.update({e["name"]: e["value"] for e in main["env"] if "value" in e})
    environment["BOTARENA_DATABASE_URL"] = "sqlite:////data/botarena/botarena.db"
    environment["BOTARENA_SECRET_KEY"] = "a key for the test"
    assert environment["BOTARENA_BUILD_BACKEND"] == "kubernetes"
    script = f"{init['command'][2]} && exec botarena {shlex.join(main['args'])}"
    client = docker_daemon.client()
    container = client.containers.run(
        botarena_image,
        ["-c", script],
        entrypoint=["sh"],
        detach=True,
        read_only=main["securityContext"]["readOnlyRootFilesystem"],
        cap_drop=main["securityContext"]["capabilities"]["drop"],
        security_opt=["no-new-privileges"],
        user=f"{spec['securityContext']['runAsUser']}:{spec['securityContext']['runAsGroup']}",
        group_add=[str(spec["securityContext"]["fsGroup"])],
        tmpfs=tmpfs,
        volumes=binds,
        environment=environment,
    )
    try:
        assert _healthz(container) == '{"status":"ok"}', container.logs().decode()[-3000:]
        # The authority's copy and the data folder: the process's own, mode 0700.
        modes = container.exec_run(
            [
                "python3",
                "-c",
                "import os; print([oct(os.stat(p).st_mode & 0o777) for p in "
                "('/var/run/botarena/run/pki', '/data/botarena')])",
            ]
        )
        assert modes.output.decode().strip() == "['0o700', '0o700']"
        # The dispatcher started on the chart's authority (a failure there stops the server).
        assert b"background services started" in container.logs()
    finally:
        container.remove(force=True)
        client.close()


def render(values: dict[str, Any]) -> helm.Release:
    fake = start_fake_kubernetes()
    try:
        return helm.install(CHART, fake.kubeconfig, values, release="arena", namespace="botarena")
    finally:
        fake.stop()
