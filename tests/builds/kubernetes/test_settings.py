"""The BOTARENA_K8S_* settings: read from the environment, checked, bad values refused."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from botarena.settings import KANIKO_IMAGE

from support.env_settings import DIGEST, from_env


def test_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(monkeypatch)
    assert settings.k8s_kubeconfig is None  # in-cluster
    assert (settings.k8s_build_namespace, settings.k8s_match_namespace) == (
        "botarena-builds",
        "botarena-matches",
    )
    assert settings.k8s_registry is None and settings.k8s_resolved_cache_repo is None
    assert settings.k8s_registry_secret == "botarena-registry"
    assert settings.k8s_builder_image == KANIKO_IMAGE
    # The maintained fork's release, pinned by digest: a moved tag cannot change the builder.
    assert KANIKO_IMAGE.startswith("ghcr.io/osscontainertools/kaniko:v")
    assert re.fullmatch(r"[^@]+:v[0-9.]+@sha256:[0-9a-f]{64}", KANIKO_IMAGE)
    assert (settings.k8s_build_cpu, settings.k8s_build_memory) == ("1", "2Gi")
    assert settings.k8s_build_ephemeral_storage == "4Gi"
    assert settings.k8s_build_ttl_seconds == 600
    assert settings.k8s_runtime_class is None


def test_every_setting_comes_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(
        monkeypatch,
        k8s_kubeconfig="/etc/botarena/kubeconfig",
        k8s_build_namespace="builds",
        k8s_match_namespace="matches",
        k8s_registry="registry.example.org:5000/botarena/",
        k8s_registry_secret="push.credentials",
        k8s_builder_image=f"ghcr.io/osscontainertools/kaniko:v1.28.3@{DIGEST}",
        k8s_build_cpu="1500m",
        k8s_build_memory="512Mi",
        k8s_build_ephemeral_storage="10G",
        k8s_build_ttl_seconds="30",
        k8s_runtime_class="gvisor",
    )
    assert str(settings.k8s_kubeconfig) == "/etc/botarena/kubeconfig"
    assert (settings.k8s_build_namespace, settings.k8s_match_namespace) == ("builds", "matches")
    assert settings.k8s_registry == "registry.example.org:5000/botarena"
    assert settings.k8s_resolved_cache_repo == "registry.example.org:5000/botarena/cache"
    assert settings.k8s_registry_secret == "push.credentials"
    assert settings.k8s_builder_image.endswith(DIGEST)
    assert (settings.k8s_build_cpu, settings.k8s_build_memory) == ("1500m", "512Mi")
    assert settings.k8s_build_ephemeral_storage == "10G"
    assert settings.k8s_build_ttl_seconds == 30
    assert settings.k8s_runtime_class == "gvisor"


def test_empty_variables_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(
        monkeypatch, k8s_kubeconfig="", k8s_runtime_class="", k8s_registry="", k8s_cache_repo=""
    )
    assert (settings.k8s_kubeconfig, settings.k8s_runtime_class) == (None, None)
    assert (settings.k8s_registry, settings.k8s_cache_repo) == (None, None)


def test_a_cache_repo_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(
        monkeypatch, k8s_registry="registry.example.org/a", k8s_cache_repo="cache.example.org/b"
    )
    assert settings.k8s_resolved_cache_repo == "cache.example.org/b"


def test_a_registry_host_alone_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(monkeypatch, k8s_registry="registry.example.org:5000")
    assert settings.k8s_registry == "registry.example.org:5000"
    assert settings.k8s_resolved_cache_repo == "registry.example.org:5000/cache"


def test_an_image_pinned_by_digest_alone_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    image = f"registry.example.org/kaniko@{DIGEST}"
    assert from_env(monkeypatch, k8s_builder_image=image).k8s_builder_image == image


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("k8s_build_cpu", "lots", "BOTARENA_K8S_BUILD_CPU 'lots' is not a positive Kubernetes"),
        ("k8s_build_memory", "2GB", "BOTARENA_K8S_BUILD_MEMORY '2GB' is not a positive"),
        ("k8s_build_memory", "-1Gi", "not a positive Kubernetes quantity"),
        ("k8s_build_ephemeral_storage", "0", "not a positive Kubernetes quantity"),
        ("k8s_build_ttl_seconds", "-1", "greater than or equal to 0"),
        ("k8s_build_namespace", "Builds", "not a DNS-1123 label"),
        ("k8s_match_namespace", "m" * 64, "not a DNS-1123 label"),
        ("k8s_registry_secret", "push_credentials", "not a DNS-1123 subdomain"),
        ("k8s_registry_secret", "", "not a DNS-1123 subdomain"),
        ("k8s_build_namespace", "", "not a DNS-1123 label"),
        ("k8s_runtime_class", "gVisor", "not a DNS-1123 subdomain"),
        ("k8s_registry", "botarena", "must start with a registry host"),
        ("k8s_registry", "https://registry.example.org", "must start with a registry host"),
        ("k8s_registry", "registry.example.org/Bot", "not a valid repository"),
        ("k8s_cache_repo", "https://registry.example.org/cache", "must start with a registry"),
        ("k8s_builder_image", "ghcr.io/osscontainertools/kaniko", "needs a tag or an @sha256"),
        ("k8s_builder_image", "kaniko:v1", "must start with a registry host"),
        ("k8s_builder_image", "ghcr.io/k/kaniko@sha256:abc", "64 lowercase hex digits"),
        ("k8s_builder_image", "ghcr.io/k/kaniko:-v1", "not a valid image tag"),
    ],
)
def test_a_bad_value_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=variable) as refused:
        from_env(monkeypatch, **{variable: value})
    assert message in str(refused.value)
