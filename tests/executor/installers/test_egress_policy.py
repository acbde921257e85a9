"""The egress allow-list as pip's configuration and the operator's setting make it, the
addresses no build may reach, the host's proxy the egress proxy chains to, and the variables
that go into the install sandbox."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

import pytest
from pydantic import ValidationError

from botarena.endpoints import IPAddress
from botarena.executor.installers import host_config
from botarena.executor.installers.egress import (
    EgressPolicy,
    Endpoint,
    RefusedByPolicyError,
    build_allow_list,
    never_reachable,
    parse_allow_entry,
    upstreams_from,
)
from botarena.executor.installers.sandboxed import sandbox_pip_variables
from botarena.settings import Settings

PYPI = {Endpoint("pypi.org", 443), Endpoint("files.pythonhosted.org", 443)}


@pytest.fixture
def site_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip's site configuration file, empty: this machine's own is left out."""
    config = tmp_path / "pip.conf"
    config.write_text("")
    monkeypatch.setattr(host_config, "PIP_SITE_CONFIG", (str(tmp_path / "xdg"), str(config)))
    return config


def test_the_default_index_is_pypi_and_its_files_host(site_config: Path) -> None:
    assert build_allow_list({}) == PYPI
    assert build_allow_list({}, ["mirror.internal", "[fd00::1]:3141"]) == {
        *PYPI,
        Endpoint("mirror.internal", 443),
        Endpoint("fd00::1", 3141),
    }


def test_the_configured_indexes_replace_pypi(site_config: Path) -> None:
    site_config.write_text(
        "[global]\nindex-url = https://user:pw@Mirror.Example/simple\n"
        "trusted-host = plain.example other.example:8443\n"
        "[install]\nextra_index_url = http://extra.example:8080/simple https://[fd00::2]/s\n"
        "[download]\nindex-url = https://not-for-installs.example/simple\n"
    )
    environ = {"PIP_FIND_LINKS": "/opt/wheels https://links.example/wheels/"}
    assert build_allow_list(environ) == {
        Endpoint("mirror.example", 443),
        Endpoint("extra.example", 8080),
        Endpoint("fd00::2", 443),
        Endpoint("links.example", 443),
        Endpoint("plain.example", 443),
        Endpoint("plain.example", 80),
        Endpoint("other.example", 8443),
    }
    # A variable overrides the file, as in pip.
    overridden = build_allow_list({"PIP_EXTRA_INDEX_URL": "https://extra.example/simple"})
    assert Endpoint("extra.example", 443) in overridden
    assert Endpoint("extra.example", 8080) not in overridden
    # pypi.org named as the index brings its files host along.
    site_config.write_text("")
    assert build_allow_list({"PIP_INDEX_URL": "https://pypi.org/simple"}) == PYPI


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("https://mirror.example/simple", "not a URL"),
        ("mirror.example:0", "no valid port"),
        ("mirror.example:https", "no valid port"),
        ("fd00::1", "is not a host name"),
        ("bad host", "is not a host name"),
        ("", "is not a host name"),
    ],
)
def test_a_bad_allow_list_entry_is_refused_with_a_reason(entry: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_allow_entry(entry)
    if entry:
        with pytest.raises(ValidationError, match=message):
            Settings(build_egress_allow=f"pypi.org,{entry}")


def test_the_setting_is_a_comma_separated_list() -> None:
    settings = Settings(build_egress_allow=" mirror.example , files.example:8443,")
    assert settings.build_egress_allow == ("mirror.example", "files.example:8443")
    assert Settings().build_egress_allow == ()


@pytest.mark.parametrize(
    ("address", "what"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.255.0.9", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::127.0.0.1", "a loopback address"),
        ("64:ff9b::169.254.169.254", "a cloud metadata address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("169.254.10.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "an unspecified address"),  # noqa: S104 - an address judged, not bound
        ("0.1.2.3", "an unspecified address"),
        ("::", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("255.255.255.255", "a broadcast address"),
        # Private and reserved ranges are for the allow-list to judge, by name.
        ("203.0.113.80", None),
        ("10.1.2.3", None),
        ("192.168.1.1", None),
        ("fd00::1", None),
        ("100.64.0.1", None),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
    ],
)
def test_addresses_no_build_may_reach(address: str, what: str | None) -> None:
    assert never_reachable(ipaddress.ip_address(address)) == what


def test_a_name_is_resolved_once_and_only_reachable_answers_kept() -> None:
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[IPAddress]:
        lookups.append(host)
        return [ipaddress.ip_address(a) for a in ("127.0.0.1", "10.0.0.7", "fe80::1")]

    policy = EgressPolicy([Endpoint("mirror.test", 443)], resolver)
    addresses = asyncio.run(policy.addresses(Endpoint("mirror.test", 443)))
    assert addresses == [ipaddress.ip_address("10.0.0.7")]
    assert lookups == ["mirror.test"]
    with pytest.raises(RefusedByPolicyError, match="is not on the build's allow-list"):
        asyncio.run(policy.addresses(Endpoint("mirror.test", 444)))
    assert lookups == ["mirror.test"]


def test_the_hosts_proxy_is_read_as_pip_would(site_config: Path) -> None:
    assert upstreams_from({}).tunnel is None
    found = upstreams_from(
        {"https_proxy": "http://u:p%40ss@proxy.example:3128", "NO_PROXY": "pypi.org"}
    )
    assert found.tunnel is not None and found.tunnel.endpoint == Endpoint("proxy.example", 3128)
    assert found.tunnel.authorization == "Basic dTpwQHNz"
    assert "p@ss" not in repr(found) and "dTpwQHNz" not in repr(found)
    assert found.plain is None
    assert found.for_request(Endpoint("pypi.org", 443), tunnel=True) is None
    assert found.for_request(Endpoint("files.pythonhosted.org", 443), tunnel=True) is not None
    # pip's own proxy option comes first, for both kinds of request.
    site_config.write_text("[global]\nproxy = proxy.internal:8080\n")
    chosen = upstreams_from({"HTTPS_PROXY": "http://other:1"})
    assert chosen.tunnel == chosen.plain
    assert chosen.tunnel is not None and chosen.tunnel.endpoint == Endpoint("proxy.internal", 8080)
    with pytest.raises(ValueError, match="must be an http:// URL, not socks5://"):
        upstreams_from({"PIP_PROXY": "socks5://user:secret@proxy:1080"})


def test_the_hosts_proxy_variables_stay_outside_the_sandbox() -> None:
    environ = {
        "PIP_INDEX_URL": "https://index.example/simple",
        "PIP_PROXY": "http://proxy:3128",
        "https_proxy": "http://proxy:3128",
        "HTTP_PROXY": "http://proxy:3128",
        "ALL_PROXY": "socks5://proxy:1080",
        "NO_PROXY": "localhost",
        "SSL_CERT_FILE": "/certs/ca.pem",
        "PIP_CERT": "/certs/ca.pem",
    }
    assert sandbox_pip_variables(environ) == {
        "PIP_INDEX_URL": "https://index.example/simple",
        "SSL_CERT_FILE": "/certs/ca.pem",
        "PIP_CERT": "/certs/ca.pem",
    }
