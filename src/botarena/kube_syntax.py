"""What Kubernetes and image registries accept as names and values, checked before use.

The settings check an operator's values with these at start-up, and the build manifests
check the names they make, so a bad value is a clear error here rather than a 422 from the
API server or a push refused by the registry in the middle of a build. The grammars are
Kubernetes' (DNS-1123 labels and subdomains, resource quantities) and the OCI distribution
reference's (``host[:port]/path[:tag][@sha256:…]``).
"""

from __future__ import annotations

import re

DNS_LABEL_MAX = 63
DNS_SUBDOMAIN_MAX = 253
TAG_MAX = 128
REPOSITORY_MAX = 255

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(rf"{_DNS_LABEL.pattern}(\.{_DNS_LABEL.pattern})*")
# A quantity: a non-negative decimal, then a binary (Ki…Ei) or decimal (n…E) suffix or an
# exponent. Signs are left out on purpose: a resource is never negative.
_QUANTITY = re.compile(r"(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?")
_HOST_PART = r"([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(rf"({_HOST_PART}(\.{_HOST_PART})*|\[[0-9a-fA-F:]+\])(:[0-9]+)?")
_PATH_COMPONENT = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def check_dns_label(value: str, what: str) -> str:
    """``value`` if it is a DNS-1123 label (a namespace, a Job, a container), else ValueError."""
    if len(value) > DNS_LABEL_MAX or not _DNS_LABEL.fullmatch(value):
        raise ValueError(
            f"{what} {value!r} is not a DNS-1123 label: at most {DNS_LABEL_MAX} lowercase "
            "letters, digits and '-', starting and ending with a letter or digit"
        )
    return value


def check_dns_subdomain(value: str, what: str) -> str:
    """``value`` if it is a DNS-1123 subdomain (a Secret's or a RuntimeClass's name)."""
    if len(value) > DNS_SUBDOMAIN_MAX or not _DNS_SUBDOMAIN.fullmatch(value):
        raise ValueError(
            f"{what} {value!r} is not a DNS-1123 subdomain: lowercase letters, digits, '-' "
            f"and '.', at most {DNS_SUBDOMAIN_MAX} characters"
        )
    return value


def check_quantity(value: str, what: str) -> str:
    """``value`` if it is a positive Kubernetes quantity such as ``500m``, ``2Gi`` or ``1.5``."""
    match = _QUANTITY.fullmatch(value)
    if not match or not any(c in "123456789" for c in match.group(1)):
        raise ValueError(
            f"{what} {value!r} is not a positive Kubernetes quantity "
            "(e.g. 500m or 2 for CPU, 512Mi or 4Gi for memory and storage)"
        )
    return value


def check_repository(value: str, what: str) -> str:
    """``value`` if it names an image repository with its registry host, e.g.
    ``registry.example.org:5000/botarena`` (no tag, no digest)."""
    host, _, path = value.partition("/")
    if (
        not path
        or not _HOST.fullmatch(host)
        or not ("." in host or ":" in host or host == "localhost")
    ):
        raise ValueError(
            f"{what} {value!r} must start with a registry host (a name with a dot or a "
            "port, or localhost) followed by '/' and a path, e.g. registry.example.org/botarena"
        )
    if len(value) > REPOSITORY_MAX or not all(
        _PATH_COMPONENT.fullmatch(p) for p in path.split("/")
    ):
        raise ValueError(
            f"{what} {value!r} is not a valid repository: each part of its path is lowercase "
            "letters and digits separated by '.', '_', '__' or '-', "
            f"{REPOSITORY_MAX} characters in all at most"
        )
    return value


def check_registry_prefix(value: str, what: str) -> str:
    """``value`` if images may be named under it: a registry host alone
    (``registry.example.org:5000``) or a repository (``registry.example.org/botarena``)."""
    if "/" in value:
        return check_repository(value, what)
    return check_repository(f"{value}/x", what).removesuffix("/x")


def check_registry_host(value: str, what: str) -> str:
    """``value`` if it is a registry's ``host[:port]`` as a dockerconfigjson keys it."""
    if not _HOST.fullmatch(value):
        raise ValueError(f"{what} {value!r} is not a host name or host:port")
    return value


def check_tag(value: str, what: str) -> str:
    """``value`` if it is a valid image tag: letters, digits, '_', '.', '-', at most 128."""
    if not _TAG.fullmatch(value):
        raise ValueError(
            f"{what} {value!r} is not a valid image tag: at most {TAG_MAX} letters, digits, "
            "'_', '.' and '-', not starting with '.' or '-'"
        )
    return value


def check_image_reference(value: str, what: str) -> str:
    """``value`` if it is a full image reference: ``host/path`` with a ``:tag``, an
    ``@sha256:…`` digest, or both (a digest pins the image; a tag alone may move)."""
    name, at, digest = value.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        raise ValueError(f"{what} {value!r}: a digest is '@sha256:' and 64 lowercase hex digits")
    repository, tag = name, ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = name.rsplit(":", 1)
    if not tag and not at:
        raise ValueError(f"{what} {value!r} needs a tag or an @sha256: digest")
    check_repository(repository, what)
    if tag:
        check_tag(tag, what)
    return value
