"""Runtime configuration, read from ``BOTARENA_*`` environment variables and an optional ``.env``.

Nothing reads the environment at import time: call :func:`get_settings` (cached) or build a
:class:`Settings` yourself, as the tests do.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from botarena import kube_syntax
from botarena.endpoints import parse_allow_entry

MIB = 1024 * 1024
# The maintained Kaniko fork's release, pinned by digest (where the digest comes from, and how
# to check it before a first deployment: docs/kubernetes.md).
KANIKO_IMAGE = (
    "ghcr.io/osscontainertools/kaniko:v1.28.3"
    "@sha256:779f463aaa3219151ceff518249aa043a60bcb09a17fab58b915f63c678ecde6"
)
# The platform's own image, which match pods run as their referee (see docs/kubernetes.md).
REFEREE_IMAGE = "ghcr.io/botarena/botarena:0.1.0"


class Settings(BaseSettings):
    """Every setting of the platform. Durations are in seconds, sizes in bytes."""

    model_config = SettingsConfigDict(
        env_prefix="BOTARENA_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Path("./botarena-data")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means SQLite in the data folder.",
        # It may hold a password: never in a repr, a log line or an error.
        repr=False,
    )

    git_allow_http: bool = False
    git_allow_hosts: Annotated[tuple[str, ...], NoDecode] = ()

    archive_max_bytes: int = Field(default=20 * MIB, gt=0)
    archive_max_files: int = Field(default=2000, gt=0)
    archive_max_unpacked_bytes: int = Field(default=200 * MIB, gt=0)

    builds_enabled: bool = Field(
        default=True, description="Run build workers in this process (botarena serve)."
    )
    build_backend: Literal["local", "docker", "kubernetes"] = "local"
    build_concurrency: int = Field(default=1, ge=1, le=64)
    build_check_interval: float = Field(default=10.0, gt=0)
    build_timeout: float = Field(default=1800.0, gt=0)
    build_lease_seconds: float = Field(default=60.0, gt=0)
    build_egress_allow: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Hosts (host or host:port, 443 by default) builds may reach besides "
        "the package index pip is configured with.",
    )

    matches_enabled: bool = Field(
        default=True, description="Hand queued matches to executors (botarena serve)."
    )
    executors: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="host:port of each executor; empty: botarena serve starts its own.",
    )
    executor_capacity: int = Field(default=2, ge=1, le=256)
    tls_dir: Path | None = Field(
        default=None,
        description="The platform's certificate authority, or an executor's bundle; "
        "empty means pki/ in the data folder.",
    )
    match_lease_seconds: float = Field(default=30.0, gt=0)
    match_max_attempts: int = Field(default=3, ge=1)
    ladder_enabled: bool = Field(
        default=True, description="Schedule ranked ladder matches inside botarena serve."
    )
    ladder_concurrency: int = Field(default=2, ge=1, le=256, description="In flight, per game.")
    ladder_rate: int = Field(default=30, ge=1, description="Ladder matches per minute, per game.")
    ladder_window: int = Field(default=4, ge=1, description="Ranks above and below to pair in.")
    ladder_placement_games: int = Field(default=5, ge=0)
    ladder_interval: float = Field(default=1.0, gt=0)
    tournament_interval: float = Field(
        default=1.0, gt=0, description="Seconds between passes of the tournament director."
    )
    scrimmage_quota: int = Field(
        default=50, ge=0, description="Unranked matches each user may create per rolling 24 h."
    )
    failed_after: int = Field(
        default=5, ge=1, description="Consecutive crashed matches that make a submission failed."
    )

    login_max_failures: int = Field(
        default=10, ge=1, description="Failed sign-ins per username and per address per window."
    )
    login_window: int = Field(
        default=900, ge=1, le=86_400, description="Seconds over which failed sign-ins count."
    )
    token_days: int = Field(
        default=90, ge=1, le=3650, description="Days a new API token lasts unless asked otherwise."
    )

    signup: Literal["open", "closed"] = Field(
        default="closed",
        description="open: anyone may create an account at /signup; closed: an admin does.",
    )
    public_url: str | None = Field(
        default=None,
        description="The address users reach the server at, e.g. https://arena.example.org; "
        "https makes the session cookie Secure.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs the web session cookie; empty: one made once and kept (0600) in "
        "the data folder.",
        repr=False,
    )

    # Notifications (docs/notifications.md): webhooks and e-mail about a user's builds,
    # challenges and tournaments, delivered by a worker inside serve.
    notifications_enabled: bool = Field(
        default=True, description="Deliver webhooks and e-mails from this process (serve)."
    )
    notify_interval: float = Field(
        default=2.0, gt=0, description="Seconds between the delivery worker's looks."
    )
    notify_concurrency: int = Field(default=2, ge=1, le=32, description="Deliveries at once.")
    notify_max_attempts: int = Field(default=8, ge=1, le=50)
    notify_retry_base: float = Field(
        default=30.0, ge=0, description="Seconds before the second attempt; doubles after."
    )
    notify_retry_cap: float = Field(default=3600.0, ge=0)
    webhook_timeout: float = Field(default=10.0, gt=0, le=60)
    webhook_allow_http: bool = False
    webhook_allow_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Hosts (host or host:port) webhooks may reach although they are internal.",
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="smtp://user:pass@host:587?starttls=true or smtps://host:465; empty: "
        "no e-mail.",
        repr=False,
    )
    smtp_from: str = Field(default="botarena@localhost", description="The From of e-mails.")

    docker_host: str | None = Field(
        default=None,
        description="The Docker (or podman) API: unix:///path or tcp://host:port; "
        "empty means DOCKER_HOST or the default socket.",
    )
    docker_base_image: str = "python:3.11-slim"
    docker_runtime: str | None = Field(
        default=None, description="The OCI runtime of agent containers, e.g. runsc (gVisor)."
    )
    docker_warm_containers: int = Field(
        default=2,
        ge=0,
        le=16,
        description="Agent containers kept started ahead per image by an executor (each for "
        "one agent of one match, then removed); 0: every container starts with its match.",
    )
    docker_warm_containers_max: int = Field(
        default=8,
        ge=0,
        le=64,
        description="At most this many warm agent containers per executor, all images together.",
    )
    docker_build_network: str | None = Field(
        default=None,
        description="Network of docker builds (the engine's default when empty; e.g. host).",
    )
    docker_build_proxy_host: str | None = Field(
        default=None,
        description="Address of this host where docker builds reach the egress proxy "
        "(e.g. the build network's gateway); empty: docker builds get no proxy.",
    )
    registry: str | None = Field(
        default=None, description="Where built images are pushed, e.g. registry.example:5000."
    )
    # The Kubernetes build mode's (docs/kubernetes.md): the kubernetes build backend and its Jobs.
    k8s_kubeconfig: Path | None = Field(
        default=None,
        description="The kubeconfig of the Kubernetes cluster builds run on; empty: the "
        "in-cluster service account.",
    )
    k8s_build_namespace: str = Field(
        default="botarena-builds",
        description="Namespace of the build Jobs (Pod Security baseline).",
    )
    k8s_match_namespace: str = Field(
        default="botarena-matches",
        description="Namespace of the match Jobs (Pod Security restricted).",
    )
    k8s_registry: str | None = Field(
        default=None,
        description="Where build Jobs push agent images: a registry host or a repository "
        "prefix, e.g. registry.example.org/botarena.",
    )
    k8s_registry_secret: str = Field(
        default="botarena-registry",
        description="A kubernetes.io/dockerconfigjson Secret in the build namespace: the "
        "registry's credentials, mounted into the builder only.",
    )
    k8s_builder_image: str = Field(
        default=KANIKO_IMAGE,
        description="The Kaniko image of build Jobs; pin it by digest (image:tag@sha256:...).",
    )
    k8s_build_cpu: str = Field(default="1", description="CPU of a build pod (a quantity).")
    k8s_build_memory: str = Field(default="2Gi", description="Memory of a build pod.")
    k8s_build_ephemeral_storage: str = Field(
        default="4Gi", description="Scratch disk of a build pod (the image's layers)."
    )
    k8s_build_ttl_seconds: int = Field(
        default=600, ge=0, description="Seconds a finished build Job is kept, then deleted."
    )
    k8s_runtime_class: str | None = Field(
        default=None, description="RuntimeClass of build pods, e.g. gvisor; empty: the default."
    )
    k8s_cache_repo: str | None = Field(
        default=None, description="Kaniko's layer cache; empty: {k8s_registry}/cache."
    )
    k8s_registry_insecure: bool = Field(
        default=False,
        description="The registry speaks plain HTTP (a test cluster's, e.g. kind's local one): "
        "Kaniko pushes and reads its cache without TLS.",
    )
    # The Kubernetes match runner's (docs/kubernetes.md, "Matches").
    match_runner: Literal["auto", "kubernetes"] = Field(
        default="auto",
        description="How an executor plays a match: auto (images in containers of the "
        "container engine, folders in the bubblewrap sandbox) or kubernetes (one Job per "
        "match in the matches namespace).",
    )
    k8s_referee_image: str = Field(
        default=REFEREE_IMAGE,
        description="The botarena image whose `botarena referee` plays a match pod's match; "
        "pin it by digest.",
    )
    k8s_agent_cpu: str = Field(default="1", description="CPU of each agent container.")
    k8s_agent_memory: str = Field(default="512Mi", description="Memory of each agent container.")
    k8s_referee_cpu: str = Field(default="500m", description="CPU of a match's referee.")
    k8s_referee_memory: str = Field(default="256Mi", description="Memory of a match's referee.")
    k8s_match_tmp_size: str = Field(
        default="64Mi", description="Size of each container's /tmp (memory, within its limit)."
    )
    k8s_match_ttl_seconds: int = Field(
        default=300, ge=0, description="Seconds a finished match Job is kept, then deleted."
    )
    k8s_match_runtime_class: str | None = Field(
        default=None, description="RuntimeClass of match pods, e.g. gvisor; empty: the default."
    )
    scan_command: str | None = Field(
        default=None,
        description="A scanner given an image reference that prints Trivy's JSON report.",
    )
    scan_blocking: bool = False
    scan_timeout: float = Field(default=600.0, gt=0)

    max_concurrent_requests: int = Field(
        default=32, ge=1, le=1024, description="Requests served at once; others wait in line."
    )
    max_queued_requests: int = Field(
        default=512, ge=0, description="Requests waiting in line; beyond them, 503 at once."
    )
    request_queue_timeout: float = Field(
        default=5.0, gt=0, description="Seconds a request may wait in line before a 503."
    )
    db_pool_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a request may wait for a connection; then 503."
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "console", "json"] = "auto"

    @field_validator(
        "git_allow_hosts", "executors", "build_egress_allow", "webhook_allow_hosts", mode="before"
    )
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("build_egress_allow")
    @classmethod
    def _check_egress_hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            parse_allow_entry(entry)  # a ValueError names the entry and what is wrong
        return value

    @field_validator(
        "k8s_kubeconfig", "k8s_registry", "k8s_runtime_class", "k8s_cache_repo", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("k8s_build_namespace", "k8s_match_namespace")
    @classmethod
    def _check_namespace(cls, value: str) -> str:
        return kube_syntax.check_dns_label(value, "namespace")

    @field_validator("k8s_registry_secret", "k8s_runtime_class")
    @classmethod
    def _check_object_name(cls, value: str | None) -> str | None:
        return None if value is None else kube_syntax.check_dns_subdomain(value, "name")

    @field_validator("k8s_registry")
    @classmethod
    def _check_registry(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return kube_syntax.check_registry_prefix(value.rstrip("/"), "registry")

    @field_validator("k8s_cache_repo")
    @classmethod
    def _check_repository(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return kube_syntax.check_repository(value.rstrip("/"), "repository")

    @field_validator("k8s_match_runtime_class", mode="before")
    @classmethod
    def _empty_runtime_class(cls, value: object) -> object:
        if value in ("", None):
            return None
        return kube_syntax.check_dns_subdomain(str(value), "RuntimeClass name")

    @field_validator("k8s_referee_image")
    @classmethod
    def _check_referee_image(cls, value: str) -> str:
        return kube_syntax.check_image_reference(value, "referee image")

    @field_validator(
        "k8s_agent_cpu",
        "k8s_agent_memory",
        "k8s_referee_cpu",
        "k8s_referee_memory",
        "k8s_match_tmp_size",
    )
    @classmethod
    def _check_match_quantity(cls, value: str, info: ValidationInfo) -> str:
        return kube_syntax.check_quantity(value, f"BOTARENA_{str(info.field_name).upper()}")

    @field_validator("k8s_builder_image")
    @classmethod
    def _check_image(cls, value: str) -> str:
        return kube_syntax.check_image_reference(value, "builder image")

    @field_validator("k8s_build_cpu", "k8s_build_memory", "k8s_build_ephemeral_storage")
    @classmethod
    def _check_quantity(cls, value: str, info: ValidationInfo) -> str:
        return kube_syntax.check_quantity(value, f"BOTARENA_{str(info.field_name).upper()}")

    @property
    def k8s_resolved_cache_repo(self) -> str | None:
        """Kaniko's layer cache: the configured repository, or ``cache`` under the registry."""
        if self.k8s_cache_repo:
            return self.k8s_cache_repo
        return f"{self.k8s_registry}/cache" if self.k8s_registry else None

    @property
    def resolved_database_url(self) -> str:
        """The database URL in use: the configured one, or SQLite under the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'botarena.db').resolve()}"

    @property
    def credentials_dir(self) -> Path:
        """Where the executor certificates live (see botarena.executor.credentials)."""
        return self.tls_dir if self.tls_dir is not None else self.data_dir / "pki"

    @property
    def archive_dir(self) -> Path:
        """Where uploaded archives are kept, content-addressed."""
        return self.data_dir / "archives"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
