"""Container images of agents, built through the Engine API (dockerd or podman's service).

A folder with a ``Dockerfile`` is built as it is; its build context also holds
``.botarena/``: the protocol shim (``.botarena/shim``, to copy to ``/opt/botarena`` and run as
``python -m botarena.sdk --main /agent/main.py``) and pip's settings for this platform
(``.botarena/pip``: ``env.sh`` to source and ``ca.crt``), credentials left out. Any other
agent gets a generated Dockerfile: a first stage installs ``requirements.txt`` (with the
platform's full pip settings, which stay in that stage and are never pushed), the final one
copies the installed packages, the shim and the agent's folder, and runs as ``nobody``.
Layers are ordered so that a change of code alone reuses the installed packages.

With a ``proxy`` (the platform's egress proxy, see
:mod:`botarena.executor.installers.egress`), every build step gets it as the engine's
predefined proxy build arguments (kept out of the image's history), and the host's own proxy
settings are left out of ``env.sh``. The proxy is all the confinement this side can give: a
build step can still connect wherever the build network lets it, so that network must lead
nowhere but to the proxy (see docs/architecture.md).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests
import urllib3

import botarena
from botarena.executor.installers.host_config import pip_config, pip_variables
from botarena.executor.installers.requirements import refers_to_local_files, requirement_lines
from botarena.executor.prepare import ENTRY_FILE, MANIFEST, REQUIREMENTS, read_command
from botarena.executor.runners.docker import split_reference

DOCKERFILE = "Dockerfile"
CONTEXT_EXTRAS = ".botarena"
PIP_DIR = "/tmp/botarena-pip"  # noqa: S108 - inside the build's own first stage
_CA_CANDIDATES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
_DEFAULT_CA = "/etc/ssl/certs/ca-certificates.crt"
_CREDENTIALS = re.compile(r"://[^/\s@]+@")
_FAILED_RUN = re.compile(r"returned a non-zero code|exit status \d+|error building at STEP")
# A step's process ended by SIGKILL or SIGTERM: the engine stopping (or someone killing the
# build) does that, and so may the step itself; the backend asks the engine which it was.
_KILLED = re.compile(r"(?:non-zero code|exit status):? (?:137|143)\b")
_RUNNING_IN = re.compile(r"^ ---> Running in ([0-9a-f]{12,64})$")
_STEP_IMAGE = re.compile(r"^ ---> ([0-9a-f]{12,64})$")

OutputSink = Callable[[str], None]


def killed_by_signal(message: str) -> bool:
    """Whether a failed build step was ended by SIGKILL or SIGTERM (exit code 137 or 143)."""
    return _KILLED.search(message) is not None


class ImageBuildError(Exception):
    """A build that did not produce an image.

    ``user_fault``: the participant's Dockerfile or requirements failed (not retried);
    otherwise the platform's side failed (the engine, the base image, the registry).
    ``kind`` is ``dockerfile`` or ``dependencies`` for the participant's faults.
    """

    def __init__(self, message: str, *, user_fault: bool, kind: str = "") -> None:
        super().__init__(message)
        self.user_fault = user_fault
        self.kind = kind


@dataclass(frozen=True)
class BuiltImage:
    """A built image: the reference it was tagged with, its id, and its digest once pushed."""

    reference: str
    image_id: str
    digest: str | None = None


class ImageBuilder:
    """Builds agent folders into images with one engine, and pushes them."""

    def __init__(
        self,
        client: docker.DockerClient,
        base_image: str,
        *,
        network: str | None = None,
        environ: Mapping[str, str] | None = None,
        proxy: str | None = None,
    ) -> None:
        self.client = client
        self.base_image = base_image
        self.network = network
        self.environ = dict(os.environ if environ is None else environ)
        self.proxy = proxy
        # What the last build made on the engine (step containers, step images not taken from
        # the cache), so that whoever runs it can clean up after a failure.
        self.containers: list[str] = []
        self.images: list[str] = []

    def build(self, source: Path, reference: str, on_output: OutputSink) -> BuiltImage:
        """Build ``source`` as ``reference``; raise ImageBuildError with the reason."""
        with tempfile.TemporaryDirectory(prefix="botarena-context-") as scratch:
            context, custom = self.context(source, Path(scratch), on_output)
            image_id = self._run_build(context, reference, on_output, custom=custom)
        return BuiltImage(reference, image_id)

    def context(
        self, source: Path, scratch: Path, say: OutputSink | None = None
    ) -> tuple[Path, bool]:
        """Write the build context of ``source`` under ``scratch`` (the folder as it is with
        ``.botarena/`` added when it brings a Dockerfile, else the generated Dockerfile with
        the agent in ``agent/``); return it and whether the Dockerfile is the submission's."""
        return build_context(
            source, scratch, self.base_image, self.environ, proxy=self.proxy, say=say
        )

    def push(self, image: BuiltImage, on_output: OutputSink) -> BuiltImage:
        """Push to the registry in its reference; the result carries the pushed digest."""
        repository, tag = split_reference(image.reference)
        on_output(f"pushing {image.reference}")
        digest = None
        try:
            for chunk in self.client.api.push(repository, tag=tag, stream=True, decode=True):
                if "error" in chunk:
                    raise ImageBuildError(f"the push failed: {chunk['error']}", user_fault=False)
                aux = chunk.get("aux") or {}
                digest = aux.get("Digest", digest)
                if chunk.get("status") and not chunk.get("progressDetail"):
                    on_output(_status_line(chunk))
        except (docker.errors.DockerException, requests.RequestException) as exc:
            raise ImageBuildError(f"the push failed: {exc}", user_fault=False) from exc
        on_output(f"pushed {image.reference}" + (f" ({digest})" if digest else ""))
        return BuiltImage(image.reference, image.image_id, digest)

    # -- steps ---------------------------------------------------------------------------
    def _run_build(
        self, context: Path, reference: str, on_output: OutputSink, *, custom: bool
    ) -> str:
        options: dict[str, Any] = {
            "path": str(context),
            "dockerfile": DOCKERFILE,
            "tag": reference,
            "rm": True,
            "forcerm": True,
            "decode": True,
            "pull": False,
            "labels": {"io.botarena.image": "agent"},
        }
        if self.network:
            options["network_mode"] = self.network
        if self.proxy:
            names = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
            options["buildargs"] = {name: self.proxy for name in names}
        image_id: str | None = None
        self.containers, self.images = [], []
        cached = False
        try:
            for chunk in self.client.api.build(**options):
                if "error" in chunk:
                    raise build_error(str(chunk["error"]).strip(), custom=custom)
                for line in _lines(chunk):
                    on_output(line)
                    self._note(line, cached)
                    cached = line.strip() == "---> Using cache"
                aux = chunk.get("aux") or {}
                image_id = aux.get("ID", image_id)
        except docker.errors.APIError as exc:
            raise build_error(str(exc.explanation or exc), custom=custom) from exc
        except (
            docker.errors.DockerException,
            requests.RequestException,
            urllib3.exceptions.HTTPError,  # the stream cut off as the engine stops
        ) as exc:
            raise ImageBuildError(f"the engine failed: {exc}", user_fault=False) from exc
        try:
            found = self.client.api.inspect_image(reference)  # type: ignore[no-untyped-call]
        except docker.errors.ImageNotFound as exc:
            raise ImageBuildError("the build ended without an image", user_fault=False) from exc
        except (docker.errors.DockerException, requests.RequestException) as exc:
            # The stream ended without an error because the engine went away mid-build.
            raise ImageBuildError(f"the engine failed: {exc}", user_fault=False) from exc
        return str(found["Id"]) if image_id is None else image_id

    def _note(self, line: str, cached: bool) -> None:
        if match := _RUNNING_IN.match(line):
            self.containers.append(match.group(1))
        elif (match := _STEP_IMAGE.match(line)) and not cached:
            self.images.append(match.group(1))


def build_context(
    source: Path,
    scratch: Path,
    base_image: str,
    environ: Mapping[str, str],
    *,
    proxy: str | None = None,
    say: OutputSink | None = None,
) -> tuple[Path, bool]:
    """The build context of the agent folder ``source``, written under ``scratch`` (which
    must exist), and whether its Dockerfile is the submission's own; ``say`` hears which.
    The same for every backend that builds images (docker, kubernetes)."""
    custom = (source / DOCKERFILE).is_file()
    if custom:
        # A copy: the folder is left as it was (it may be a participant's own).
        context = scratch / "context"
        shutil.copytree(source, context, symlinks=True)
        _write_extras(context / CONTEXT_EXTRAS, environ, credentials=False, proxies=not proxy)
    else:
        context = scratch / "generated"
        context.mkdir()
        _generated_context(source, context, base_image, environ, proxy)
    _open_up(context)
    if say is not None:
        say(
            "building from the submission's Dockerfile"
            if custom
            else f"building from a generated Dockerfile on {base_image}"
        )
    return context, custom


def _generated_context(
    source: Path, context: Path, base_image: str, environ: Mapping[str, str], proxy: str | None
) -> None:
    command = read_command(source)
    if command is None and not (source / ENTRY_FILE).is_file():
        raise ImageBuildError(
            f"the submission has no {DOCKERFILE}, no {ENTRY_FILE} and no command in {MANIFEST}",
            user_fault=True,
            kind="dockerfile",
        )
    shutil.copytree(source, context / "agent", symlinks=True)
    _write_extras(context / CONTEXT_EXTRAS, environ, credentials=True, proxies=not proxy)
    requirements = source / REQUIREMENTS
    lines = requirement_lines(requirements) if requirements.is_file() else []
    (context / DOCKERFILE).write_text(
        generated_dockerfile(
            base_image,
            command=command,
            requirements=bool(lines),
            whole_folder=refers_to_local_files(lines),
        )
    )


def generated_dockerfile(
    base_image: str,
    *,
    command: tuple[str, ...] | None,
    requirements: bool,
    whole_folder: bool,
) -> str:
    """The Dockerfile of an agent folder that brings none."""
    lines: list[str] = []
    if requirements:
        copied = "agent/" if whole_folder else f"agent/{REQUIREMENTS}"
        lines += [
            f"FROM {base_image} AS dependencies",
            f"COPY {CONTEXT_EXTRAS}/pip/ {PIP_DIR}/",
            f"COPY {copied} /tmp/agent/",
            "WORKDIR /tmp/agent",
            f"RUN . {PIP_DIR}/env.sh && python -m pip install --no-input --no-cache-dir "
            "--disable-pip-version-check --no-warn-script-location --target /opt/deps "
            f"-r {REQUIREMENTS}",
            "",
        ]
    lines.append(f"FROM {base_image}")
    if requirements:
        lines.append("COPY --from=dependencies /opt/deps /opt/deps")
    lines += [
        f"COPY {CONTEXT_EXTRAS}/shim/ /opt/botarena/",
        "COPY agent/ /agent/",
        "ENV PYTHONPATH=/opt/botarena:/opt/deps PYTHONDONTWRITEBYTECODE=1 "
        "PYTHONUNBUFFERED=1 HOME=/tmp",
        "WORKDIR /agent",
        "USER 65534:65534",
    ]
    shim = ["python", "-m", "botarena.sdk", "--main", f"/agent/{ENTRY_FILE}"]
    # A command of its own goes through the pipes launcher: it is the command itself but in
    # a Kubernetes match pod, where it first takes the pipes the environment names.
    program = ["python", "-m", "botarena.sdk.pipes", *command] if command else shim
    lines.append(f"CMD {json.dumps(program)}")
    return "\n".join(lines) + "\n"


def image_reference(
    registry: str | None, agent_id: str, submission_id: str, version: int, build_id: str
) -> str:
    """``{registry}/agent-{agentId}:{submissionId}-v{version}-{buildId}``, ``botarena/…``
    without a registry: each build attempt tags an image of its own, never moved."""
    return f"{image_repository(registry, agent_id)}:{submission_id}-v{version}-{build_id}"


def image_repository(registry: str | None, agent_id: str) -> str:
    """Where an agent's images are: ``{registry}/agent-{agentId}``."""
    repository = registry.rstrip("/") if registry else "botarena"
    return f"{repository}/agent-{agent_id}"


def local_image_name(folder: Path) -> str:
    """An image repository name made from a folder's name (``My Bot`` → ``my-bot``)."""
    name = re.sub(r"[^a-z0-9]+", "-", folder.name.lower()).strip("-")
    return name or "agent"


# -- the build context's extras ----------------------------------------------------------
def _write_extras(
    folder: Path, environ: Mapping[str, str], *, credentials: bool, proxies: bool
) -> None:
    if folder.exists() or folder.is_symlink():
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
        else:
            folder.unlink()
    shim = folder / "shim" / "botarena"
    package = Path(botarena.__file__).parent
    shim.mkdir(parents=True)
    shutil.copy(package / "__init__.py", shim / "__init__.py")
    shutil.copytree(package / "sdk", shim / "sdk", ignore=shutil.ignore_patterns("__pycache__"))
    pip = folder / "pip"
    pip.mkdir()
    ca = _ca_bundle(environ)
    if ca is not None:
        shutil.copy(ca, pip / "ca.crt")
    settings = pip_settings(environ, ca=f"{PIP_DIR}/ca.crt" if ca else None, proxies=proxies)
    if not credentials:
        settings = {k: v for k, v in settings.items() if not _CREDENTIALS.search(v)}
    (pip / "env.sh").write_text(
        "".join(f"export {name}={shlex.quote(value)}\n" for name, value in sorted(settings.items()))
    )


def pip_settings(
    environ: Mapping[str, str], *, ca: str | None, proxies: bool = True
) -> dict[str, str]:
    """pip's site configuration and variables of this host, as variables for a build: host
    paths left out (they do not exist in the image), the CA bundle pointed at ``ca``, the
    host's proxy settings left out unless ``proxies``."""
    settings: dict[str, str] = {}
    for parser in pip_config(environ):
        for section in ("global", "install"):
            if parser.has_section(section):
                for key, value in parser.items(section):
                    settings[f"PIP_{key.upper().replace('-', '_')}"] = value.strip()
    settings.update(pip_variables(environ))
    kept = {
        name: value
        for name, value in settings.items()
        if name != "PIP_CONFIG_FILE"
        and not any(w.startswith("/") for w in value.split())
        and (proxies or not name.upper().endswith("_PROXY"))
    }
    if ca:
        kept.update({"PIP_CERT": ca, "SSL_CERT_FILE": ca, "REQUESTS_CA_BUNDLE": ca})
    return kept


def _ca_bundle(environ: Mapping[str, str]) -> Path | None:
    for name in _CA_CANDIDATES:
        value = environ.get(name)
        if value and Path(value).is_file():
            return Path(value)
    return Path(_DEFAULT_CA) if Path(_DEFAULT_CA).is_file() else None


def _open_up(context: Path) -> None:
    """Everyone may read the context (agents run as nobody): add read, and search to folders
    and programs. Links are left alone: they are copied as links."""
    for root, dirs, files in os.walk(context):
        for name in [*dirs, *files]:
            path = Path(root, name)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue
            extra = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
            if stat.S_ISDIR(info.st_mode) or info.st_mode & stat.S_IXUSR:
                extra |= stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
            os.chmod(path, stat.S_IMODE(info.st_mode) | extra)


# -- the build's output --------------------------------------------------------------------
def _lines(chunk: Mapping[str, Any]) -> Iterator[str]:
    text = chunk.get("stream")
    if isinstance(text, str):
        for line in text.splitlines():
            if line.strip():
                yield line
    elif chunk.get("status"):
        yield _status_line(chunk)


def _status_line(chunk: Mapping[str, Any]) -> str:
    return " ".join(str(chunk[k]) for k in ("id", "status", "progress") if chunk.get(k))


def build_error(message: str, *, custom: bool) -> ImageBuildError:
    """Whose fault a build's error message is: a failing step of the submission's own
    Dockerfile, or the generated one's install (its only RUN step); else the platform's."""
    if custom:
        return ImageBuildError(message, user_fault=True, kind="dockerfile")
    if _FAILED_RUN.search(message):
        # The generated Dockerfile's only command is the install of the requirements.
        return ImageBuildError(message, user_fault=True, kind="dependencies")
    return ImageBuildError(message, user_fault=False)
