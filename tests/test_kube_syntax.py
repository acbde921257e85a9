"""The names and values Kubernetes and registries accept, as botarena checks them."""

from __future__ import annotations

import pytest

from botarena import kube_syntax

DIGEST = "sha256:" + "f" * 64


@pytest.mark.parametrize("value", ["1", "0.5", ".5", "500m", "1e3", "2E-1", "100Ki", "1.5Gi", "7P"])
def test_quantities_the_api_takes(value: str) -> None:
    assert kube_syntax.check_quantity(value, "q") == value


@pytest.mark.parametrize(
    "value", ["", "0", "0.0", "0Gi", "Gi", "1.5.5", "1 Gi", "1KiB", "1gi", "+1", "-1", "1GB"]
)
def test_quantities_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a positive Kubernetes quantity"):
        kube_syntax.check_quantity(value, "q")


@pytest.mark.parametrize(
    "value",
    [
        "ghcr.io/osscontainertools/kaniko:v1.28.3",
        f"ghcr.io/osscontainertools/kaniko:v1.28.3@{DIGEST}",
        f"ghcr.io/osscontainertools/kaniko@{DIGEST}",
        "localhost:5000/a/b_c/d__e/f-g:tag_1.2-3",
        "[::1]:5000/agent:1",
        "Registry.Example.org/agent:" + "t" * 128,
    ],
)
def test_image_references_taken(value: str) -> None:
    assert kube_syntax.check_image_reference(value, "image") == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("kaniko:v1", "registry host"),
        ("ghcr.io/kaniko", "needs a tag"),
        ("ghcr.io/Kaniko:v1", "not a valid repository"),
        ("ghcr.io/a//b:v1", "not a valid repository"),
        ("ghcr.io/a_/b:v1", "not a valid repository"),
        ("ghcr.io/a:" + "t" * 129, "not a valid image tag"),
        ("ghcr.io/a:.t", "not a valid image tag"),
        (f"ghcr.io/a@{DIGEST.upper()}", "64 lowercase hex digits"),
        ("ghcr.io/a@sha512:" + "f" * 128, "64 lowercase hex digits"),
        ("ghcr.io/" + "a" * 250 + ":v1", "characters in all"),
    ],
)
def test_image_references_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kube_syntax.check_image_reference(value, "image")


def test_registry_hosts() -> None:
    assert kube_syntax.check_registry_host("registry.example.org:5000", "h")
    for bad in ("https://registry.example.org", "registry.example.org/x", "reg istry", ""):
        with pytest.raises(ValueError, match="not a host name"):
            kube_syntax.check_registry_host(bad, "h")


def test_registry_prefixes() -> None:
    for good in ("registry.example.org", "localhost:5000", "registry.example.org/a/b"):
        assert kube_syntax.check_registry_prefix(good, "r") == good
    for bad in ("botarena", "registry.example.org/", "https://registry.example.org"):
        with pytest.raises(ValueError, match=r"registry host|not a valid repository"):
            kube_syntax.check_registry_prefix(bad, "r")
