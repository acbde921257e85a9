"""Tests for reading IP literals in every spelling and telling internal addresses from public."""

from __future__ import annotations

import ipaddress

import pytest

from botarena.sources.addresses import SourceUrlError, is_internal_address, parse_ip_literal

V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address

FULLWIDTH_LOOPBACK = "\uff11\uff12\uff17.\uff10.\uff10.\uff11"  # full-width digits
IDEOGRAPHIC_LOOPBACK = "127\u30020\u30020\u30021"  # ideographic full stops
UNSPECIFIED = ".".join(["0"] * 4)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", V4("127.0.0.1")),
        ("127.1", V4("127.0.0.1")),
        ("127.0.1", V4("127.0.0.1")),
        ("10.1", V4("10.0.0.1")),
        ("2130706433", V4("127.0.0.1")),
        ("0177.0.0.1", V4("127.0.0.1")),
        ("017700000001", V4("127.0.0.1")),
        ("0x7f.0.0.1", V4("127.0.0.1")),
        ("0x7f000001", V4("127.0.0.1")),
        ("0x7f.1", V4("127.0.0.1")),
        ("0x7f.0.0x1", V4("127.0.0.1")),
        ("192.168.257", V4("192.168.1.1")),
        ("0x", V4(UNSPECIFIED)),
        ("0", V4(UNSPECIFIED)),
        ("127.0.0.1.", V4("127.0.0.1")),
        ("4294967295", V4("255.255.255.255")),
        ("1.16777215", V4("1.255.255.255")),
        ("8.8.8.8", V4("8.8.8.8")),
        (FULLWIDTH_LOOPBACK, V4("127.0.0.1")),
        (IDEOGRAPHIC_LOOPBACK, V4("127.0.0.1")),
        ("[::1]", V6("::1")),
        ("::1", V6("::1")),
        ("[fe80::1%25eth0]", V6("fe80::1")),
        ("[::ffff:7f00:1]", V6("::ffff:127.0.0.1")),
        ("github.com", None),
        ("GitHub.com.", None),
        ("1.2.3.example", None),
        ("example.0x1g", None),
        ("deadbeef", None),
        ("b\u00fccher.example", None),
    ],
)
def test_parse_ip_literal(host: str, expected: ipaddress.IPv4Address | None) -> None:
    assert parse_ip_literal(host) == expected


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("1.2.3.4.5", "is not a valid IPv4 address"),
        ("256.1.1.1", "is not a valid IPv4 address"),
        ("1.2.3.256", "is not a valid IPv4 address"),
        ("1.16777216", "is not a valid IPv4 address"),
        ("4294967296", "is not a valid IPv4 address"),
        ("0x100000000", "is not a valid IPv4 address"),
        ("0x1g.1", "is not a valid IPv4 address"),
        ("08.1.1.1", "is not a valid IPv4 address"),
        ("1..1", "is not a valid IPv4 address"),
        (".1.2.3", "is not a valid IPv4 address"),
        ("127.0.0.1..", "is not a valid IPv4 address"),
        ("..0x7f..", "is not a valid IPv4 address"),
        ("example.123", "is not a valid IPv4 address"),
        ("99999999999999999999999999999999", "is not a valid IPv4 address"),
        ("[::1", "is not a valid IPv6 address"),
        ("[1.2.3.4]", "is not a valid IPv6 address"),
        ("[::g]", "is not a valid IPv6 address"),
        ("1:2:3:4:5:6:7:8:9", "is not a valid IPv6 address"),
    ],
)
def test_parse_ip_literal_refuses_numeric_garbage(host: str, message: str) -> None:
    with pytest.raises(SourceUrlError) as info:
        parse_ip_literal(host)
    assert str(info.value) == f"codeUrl host {host} {message}"


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "100.128.0.1",
        "172.32.0.1",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
        "2001:0:808:808::f7f7:f7f7",
    ],
)
def test_public_addresses_are_not_internal(address: str) -> None:
    assert not is_internal_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "100.64.0.0",
        "100.127.255.255",
        "172.31.0.1",
        "198.18.0.0",
        "::ffff:100.64.0.1",
        "64:ff9b::c0a8:101",
        "2002:6440:1::",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff0e::1",
    ],
)
def test_internal_addresses(address: str) -> None:
    assert is_internal_address(ipaddress.ip_address(address))
