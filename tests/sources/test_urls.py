"""Tests for the codeUrl checks that stop server-side request forgery."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

import pytest

from botarena.sources.urls import (
    MAX_URL_LENGTH,
    CheckedUrl,
    SourceUrlError,
    is_allow_listed,
    resolve_public_addresses,
    validate_code_url,
)

V4 = ipaddress.IPv4Address
V6 = ipaddress.IPv6Address

FULLWIDTH_LOOPBACK = "\uff11\uff12\uff17.\uff10.\uff10.\uff11"  # full-width digits
IDEOGRAPHIC_LOOPBACK = "127\u30020\u30020\u30021"  # ideographic full stops
FULLWIDTH_LOCALHOST = "".join(chr(ord(c) + 0xFEE0) for c in "localhost")
UNSPECIFIED = ".".join(["0"] * 4)


def check(url: str, *, allow_http: bool = False, allow_hosts: Sequence[str] = ()) -> CheckedUrl:
    return validate_code_url(url, allow_http=allow_http, allow_hosts=allow_hosts)


def refused(url: str, *, allow_http: bool = False, allow_hosts: Sequence[str] = ()) -> str:
    with pytest.raises(SourceUrlError) as info:
        check(url, allow_http=allow_http, allow_hosts=allow_hosts)
    return str(info.value)


# --- internal addresses in every spelling ------------------------------------------------

INTERNAL_HOSTS = [
    # 127/8
    "127.0.0.1",
    "127.1",
    "127.0.1",
    "127.255.255.254",
    "2130706433",
    "0177.0.0.1",
    "017700000001",
    "0x7f.0.0.1",
    "0x7f000001",
    "0X7F.1",
    "0x7f.0x0.0.01",
    "0177.1",
    "0000000177.0.0.1",
    "127.000.000.001",
    "127.0.0.1.",
    FULLWIDTH_LOOPBACK,
    IDEOGRAPHIC_LOOPBACK,
    # 10/8
    "10.0.0.1",
    "10.1",
    "167772161",
    "012.0.0.1",
    "0xa.0.0.1",
    "0x0a000001",
    # 172.16/12
    "172.16.0.1",
    "172.31.255.255",
    "172.16.1",
    "2886729729",
    "0xac.0x10.0.1",
    # 192.168/16
    "192.168.1.1",
    "192.168.257",
    "3232235777",
    "0xc0.0xa8.1.1",
    "0300.0250.1.1",
    # 169.254/16, cloud metadata
    "169.254.169.254",
    "169.254.43518",
    "2852039166",
    "0xa9.0xfe.0xa9.0xfe",
    "0251.0376.0251.0376",
    # 100.64/10 shared
    "100.64.0.1",
    "100.127.255.254",
    "0x64.0x40.0.1",
    "1681915905",
    # unspecified and "this network"
    UNSPECIFIED,
    "0",
    "0x0",
    "00",
    "0.0",
    "0.1.2.3",
    # other special-purpose ranges
    "198.18.0.1",
    "198.19.255.255",
    "192.0.2.1",
    "198.51.100.7",
    "203.0.113.9",
    "192.0.0.8",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    # IPv6 loopback, unspecified, link-local (with zone ids), unique-local, multicast...
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::]",
    "[fe80::1]",
    "[FE80::1]",
    "[fe80::1%25eth0]",
    "[fe80::1%eth0]",
    "[febf::1]",
    "[fec0::1]",
    "[fc00::1]",
    "[fd12:3456:789a::1]",
    "[ff02::1]",
    "[100::1]",
    "[2001:db8::1]",
    "[2001:2::1]",
    "[5f00::1]",
    # IPv4-mapped
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[::FFFF:7F00:0001]",
    "[::ffff:10.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[::ffff:a9fe:a9fe]",
    "[::ffff:100.64.0.1]",
    "[::ffff:0.0.0.0]",
    "[0:0:0:0:0:ffff:c0a8:101]",
    # IPv4-compatible (deprecated, never public)
    "[::127.0.0.1]",
    "[::7f00:1]",
    "[::8.8.8.8]",
    # 6to4 embedding an internal IPv4
    "[2002:7f00:1::]",
    "[2002:c0a8:101::1]",
    "[2002:a9fe:a9fe::1]",
    "[2002:a00:1::]",
    # NAT64 embedding an internal IPv4, and the local-use NAT64 prefix
    "[64:ff9b::127.0.0.1]",
    "[64:ff9b::7f00:1]",
    "[64:ff9b::a9fe:a9fe]",
    "[64:ff9b::10.0.0.1]",
    "[64:ff9b:1::808:808]",
    # Teredo: internal client (192.168.1.1) or internal server (10.0.0.1)
    "[2001:0:808:808::3f57:fefe]",
    "[2001:0:a00:1::f7f7:f7f7]",
]


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_internal_address_hosts_are_refused(host: str) -> None:
    assert refused(f"https://{host}/team/bot") == f"codeUrl host {host} is an internal address"


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_internal_address_hosts_are_refused_with_a_port_and_over_http(host: str) -> None:
    message = refused(f"http://{host}:8080/team/bot", allow_http=True)
    assert message == f"codeUrl host {host} is an internal address"


def test_there_are_enough_internal_spellings() -> None:
    assert len(INTERNAL_HOSTS) >= 40


# --- invalid hosts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("1.2.3.4.5", "codeUrl host 1.2.3.4.5 is not a valid IPv4 address"),
        ("256.1.1.1", "codeUrl host 256.1.1.1 is not a valid IPv4 address"),
        ("0x1g.1", "codeUrl host 0x1g.1 is not a valid IPv4 address"),
        ("08.0.0.1", "codeUrl host 08.0.0.1 is not a valid IPv4 address"),
        ("exa_mple.com", "codeUrl host exa_mple.com is not a valid host name"),
        ("-git.example.com", "codeUrl host -git.example.com is not a valid host name"),
        ("git-.example.com", "codeUrl host git-.example.com is not a valid host name"),
        ("git..example.com", "codeUrl host git..example.com is not a valid host name"),
        ("a" * 64 + ".com", f"codeUrl host {'a' * 64}.com is not a valid host name"),
        (
            ".".join(["a" * 63] * 4),
            f"codeUrl host {'.'.join(['a' * 63] * 4)} is not a valid host name",
        ),
        ("git.example.com..", "codeUrl host git.example.com.. is not a valid host name"),
        ("127.0.0.1..", "codeUrl host 127.0.0.1.. is not a valid IPv4 address"),
        ("0x7f.0.0.1.", "codeUrl host 0x7f.0.0.1. is an internal address"),
        ("1..", "codeUrl host 1.. is not a valid IPv4 address"),
        ("git*.example.com", "codeUrl host git*.example.com is not a valid host name"),
        ("\u2100.example", "codeUrl host \u2100.example is not a valid host name"),
        ("%6c%6fcalhost", "codeUrl host %6c%6fcalhost must not contain percent-escapes"),
        ("127.0.0.%31", "codeUrl host 127.0.0.%31 must not contain percent-escapes"),
        ("[::1", "codeUrl host [::1 is not a valid IPv6 address"),
        ("[127.0.0.1]", "codeUrl host [127.0.0.1] is not a valid IPv6 address"),
        ("[v1.fe]", "codeUrl host [v1.fe] is not a valid IPv6 address"),
        ("[::1]x", "codeUrl host [::1]x is not a valid IPv6 address"),
        ("[fe80::1%25]", "codeUrl host [fe80::1%25] is an internal address"),
        ("[fe80::1%]", "codeUrl host [fe80::1%] is not a valid IPv6 address"),
        ("[fe80::1%25e/th0]", "codeUrl host [fe80::1%25e is not a valid IPv6 address"),
        (
            "[2606:4700:4700::1111%25eth0]",
            "codeUrl host [2606:4700:4700::1111%25eth0] must not carry an IPv6 zone id",
        ),
        ("::1", "codeUrl must write an IPv6 host in brackets, like [2001:db8::1]"),
        ("fe80::1", "codeUrl must write an IPv6 host in brackets, like [2001:db8::1]"),
        ("", "codeUrl must name a host"),
        (":443", "codeUrl must name a host"),
        ("[]", "codeUrl host [] is not a valid IPv6 address"),
    ],
)
def test_invalid_hosts_are_refused(host: str, message: str) -> None:
    assert refused(f"https://{host}/team/bot") == message


@pytest.mark.parametrize(
    ("host", "shown"),
    [
        ("localhost", "localhost"),
        ("LOCALHOST", "localhost"),
        ("LocalHost.", "localhost"),
        ("git.localhost", "git.localhost"),
        ("a.b.LocalHost.", "a.b.localhost"),
        (FULLWIDTH_LOCALHOST, "localhost"),
    ],
)
def test_localhost_names_are_refused(host: str, shown: str) -> None:
    assert refused(f"https://{host}/team/bot") == f"codeUrl host {shown} is not allowed"
    message = refused(f"http://{host}:8080/team/bot", allow_http=True)
    assert message == f"codeUrl host {shown} is not allowed"


@pytest.mark.parametrize("host", ["localhost.example.com", "mylocalhost", "localhost-1.net"])
def test_names_merely_containing_localhost_are_fine(host: str) -> None:
    assert check(f"https://{host}/team/bot").host == host


# --- schemes, credentials, path, query, characters ----------------------------------------


@pytest.mark.parametrize(
    ("url", "allow_http", "message"),
    [
        ("http://github.com/team/bot", False, "codeUrl must use https://"),
        ("HTTP://github.com/team/bot", False, "codeUrl must use https://"),
        ("file:///srv/repo", False, "codeUrl must use https://"),
        ("file:///srv/repo", True, "codeUrl must use https:// or http://"),
        ("ssh://git@github.com/team/bot.git", False, "codeUrl must use https://"),
        ("git://github.com/team/bot.git", False, "codeUrl must use https://"),
        ("ftp://github.com/team/bot", True, "codeUrl must use https:// or http://"),
        ("git+https://github.com/team/bot", False, "codeUrl must use https://"),
        ("javascript:alert(1)", False, "codeUrl must use https://"),
        ("github.com:team/bot.git", False, "codeUrl must use https://"),
        ("https:github.com/team/bot", False, "codeUrl must be an https:// URL"),
        ("https:/github.com/team/bot", True, "codeUrl must be an https:// or http:// URL"),
        (
            "git@github.com:team/bot.git",
            False,
            "codeUrl must be an https:// URL, not a local path or scp-style address",
        ),
        (
            "/srv/repo",
            False,
            "codeUrl must be an https:// URL, not a local path or scp-style address",
        ),
        (
            "./repo",
            True,
            "codeUrl must be an https:// or http:// URL, not a local path or scp-style address",
        ),
        (
            "github.com/team/bot",
            False,
            "codeUrl must be an https:// URL, not a local path or scp-style address",
        ),
        (
            "//github.com/team/bot",
            False,
            "codeUrl must be an https:// URL, not a local path or scp-style address",
        ),
    ],
)
def test_schemes(url: str, allow_http: bool, message: str) -> None:
    assert refused(url, allow_http=allow_http) == message


@pytest.mark.parametrize(
    "url",
    [
        "https://user@github.com/team/bot",
        "https://user:secret@github.com/team/bot",
        "https://:@github.com/team/bot",
        "https://x-access-token:abc@github.com:443/team/bot",
        "https://github.com@127.0.0.1/team/bot",
        "https://token@localhost/team/bot",
    ],
)
def test_credentials_are_refused(url: str) -> None:
    assert refused(url) == "codeUrl must not contain credentials"


def test_credentials_are_refused_even_for_allow_listed_hosts() -> None:
    message = refused("https://user@127.0.0.1/team/bot", allow_hosts=("127.0.0.1",))
    assert message == "codeUrl must not contain credentials"


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com",
        "https://github.com/",
        "https://github.com//",
        "https://github.com:443",
        "https://github.com:443/",
        "https://[2606:4700:4700::1111]",
    ],
)
def test_a_repository_path_is_required(url: str) -> None:
    assert refused(url) == "codeUrl must name a repository path"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://git.example/équipe/bot", "https://git.example/%C3%A9quipe/bot"),
        (
            "https://git.example/team/ботик.git",
            "https://git.example/team/%D0%B1%D0%BE%D1%82%D0%B8%D0%BA.git",
        ),
        ("https://git.example/a%20b/c", "https://git.example/a%20b/c"),  # escapes kept as given
    ],
)
def test_a_path_of_other_scripts_is_kept_percent_encoded(url: str, kept: str) -> None:
    assert check(url).url == kept


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://github.com/team/bot?ref=main", "codeUrl must not contain a query (?...)"),
        ("https://github.com/team/bot?", "codeUrl must not contain a query (?...)"),
        ("https://github.com?@127.0.0.1/team/bot", "codeUrl must not contain a query (?...)"),
        ("https://github.com/team/bot#main", "codeUrl must not contain a fragment (#...)"),
        ("https://github.com#@127.0.0.1/x", "codeUrl must not contain a fragment (#...)"),
        ("https://github.com/team/bot?a#b", "codeUrl must not contain a fragment (#...)"),
    ],
)
def test_queries_and_fragments_are_refused(url: str, message: str) -> None:
    assert refused(url) == message


@pytest.mark.parametrize(
    "url",
    [
        " https://github.com/team/bot",
        "https://github.com/team/bot ",
        "https://github.com/team bot",
        "https://github.com/team/bot\n",
        "https://git\thub.com/team/bot",
        "https://github.com/team/bot\r\nHost: 127.0.0.1",
        "https://github.com/team/bot\x00",
        "https://github.com/team/bot\x7f",
        "https://github.com/team/bot\x85",
        "https://github.com/team/bot\u00a0",
        "https://github.com/team/bot\u2028",
        "https://git\u200bhub.com/team/bot",
        "https://github.com/team/\u202ebot",
        "https://github.com/\ufeffteam/bot",
    ],
)
def test_whitespace_and_control_characters_are_refused(url: str) -> None:
    assert refused(url) == "codeUrl must not contain whitespace or control characters"


@pytest.mark.parametrize(
    "url",
    ["https://github.com\\@127.0.0.1/team/bot", "https://github.com/team\\bot", "C:\\repo"],
)
def test_backslashes_are_refused(url: str) -> None:
    assert refused(url) == "codeUrl must not contain backslashes"


def test_length_limit() -> None:
    prefix = "https://github.com/"
    longest = prefix + "a" * (MAX_URL_LENGTH - len(prefix))
    assert check(longest).url == longest
    assert refused(longest + "a") == "codeUrl must be at most 2048 characters long"


@pytest.mark.parametrize("url", ["", 42])
def test_empty_or_non_string(url: Any) -> None:
    with pytest.raises(SourceUrlError, match=r"^codeUrl must (not be empty|be a string)$"):
        validate_code_url(url, allow_http=False, allow_hosts=())


@pytest.mark.parametrize(
    "port", ["0", "00", "65536", "99999", "123456789012345678901234567890", "-1", "+443", "x", ""]
)
def test_invalid_ports_are_refused(port: str) -> None:
    message = refused(f"https://github.com:{port}/team/bot")
    assert message == "codeUrl port must be a number from 1 to 65535"
    message = refused(f"https://[2606:4700:4700::1111]:{port}/team/bot")
    assert message == "codeUrl port must be a number from 1 to 65535"


# --- accepted URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allow_http", "expected"),
    [
        (
            "https://github.com/team/bot",
            False,
            CheckedUrl("https://github.com/team/bot", "https", "github.com", 443, None, False),
        ),
        (
            "https://github.com/team/bot.git",
            False,
            CheckedUrl("https://github.com/team/bot.git", "https", "github.com", 443, None, False),
        ),
        (
            "HTTPS://GitHub.COM./team/bot",
            False,
            CheckedUrl("https://github.com/team/bot", "https", "github.com", 443, None, False),
        ),
        (
            "https://git.example.org:8443/team/bot",
            False,
            CheckedUrl(
                "https://git.example.org:8443/team/bot",
                "https",
                "git.example.org",
                8443,
                None,
                False,
            ),
        ),
        (
            "https://git.example.org:00443/team/bot",
            False,
            CheckedUrl(
                "https://git.example.org:443/team/bot", "https", "git.example.org", 443, None, False
            ),
        ),
        (
            "https://git.example.org:65535/x",
            False,
            CheckedUrl(
                "https://git.example.org:65535/x", "https", "git.example.org", 65535, None, False
            ),
        ),
        (
            "http://git.example.org/team/bot",
            True,
            CheckedUrl(
                "http://git.example.org/team/bot", "http", "git.example.org", 80, None, False
            ),
        ),
        (
            "https://git.example.org/team/bot",
            True,
            CheckedUrl(
                "https://git.example.org/team/bot", "https", "git.example.org", 443, None, False
            ),
        ),
        (
            "https://1.2.3.example/a/b",
            False,
            CheckedUrl("https://1.2.3.example/a/b", "https", "1.2.3.example", 443, None, False),
        ),
        (
            "https://xn--bcher-kva.example/a",
            False,
            CheckedUrl(
                "https://xn--bcher-kva.example/a",
                "https",
                "xn--bcher-kva.example",
                443,
                None,
                False,
            ),
        ),
        (
            "https://b\u00fccher.example/a",
            False,
            CheckedUrl(
                "https://xn--bcher-kva.example/a",
                "https",
                "xn--bcher-kva.example",
                443,
                None,
                False,
            ),
        ),
        (
            "https://B\u00dcCHER.Example./a",
            False,
            CheckedUrl(
                "https://xn--bcher-kva.example/a",
                "https",
                "xn--bcher-kva.example",
                443,
                None,
                False,
            ),
        ),
        (
            "https://\u4f8b\u3048.\u30c6\u30b9\u30c8/a",
            False,
            CheckedUrl(
                "https://xn--r8jz45g.xn--zckzah/a",
                "https",
                "xn--r8jz45g.xn--zckzah",
                443,
                None,
                False,
            ),
        ),
        (
            "https://8.8.8.8/team/bot",
            False,
            CheckedUrl("https://8.8.8.8/team/bot", "https", "8.8.8.8", 443, V4("8.8.8.8"), False),
        ),
        (
            "https://134744072/team/bot",
            False,
            CheckedUrl("https://8.8.8.8/team/bot", "https", "8.8.8.8", 443, V4("8.8.8.8"), False),
        ),
        (
            "https://0x8.0x8.0x8.0x8:444/team/bot",
            False,
            CheckedUrl(
                "https://8.8.8.8:444/team/bot", "https", "8.8.8.8", 444, V4("8.8.8.8"), False
            ),
        ),
        (
            "https://[2606:4700:4700:0:0:0:0:1111]:8443/team/bot",
            False,
            CheckedUrl(
                "https://[2606:4700:4700::1111]:8443/team/bot",
                "https",
                "2606:4700:4700::1111",
                8443,
                V6("2606:4700:4700::1111"),
                False,
            ),
        ),
        (
            "https://[::ffff:8.8.8.8]/team/bot",
            False,
            CheckedUrl(
                f"https://[{V6('::ffff:8.8.8.8')}]/team/bot",
                "https",
                str(V6("::ffff:8.8.8.8")),
                443,
                V6("::ffff:8.8.8.8"),
                False,
            ),
        ),
        (
            "https://[2002:808:808::1]/team/bot",
            False,
            CheckedUrl(
                "https://[2002:808:808::1]/team/bot",
                "https",
                "2002:808:808::1",
                443,
                V6("2002:808:808::1"),
                False,
            ),
        ),
        (
            "https://[2001:0:808:808::f7f7:f7f7]/team/bot",
            False,
            CheckedUrl(
                "https://[2001:0:808:808::f7f7:f7f7]/team/bot",
                "https",
                "2001:0:808:808::f7f7:f7f7",
                443,
                V6("2001:0:808:808::f7f7:f7f7"),
                False,
            ),
        ),
        (
            "https://github.com/team/bot@v1/~x/%20y",
            False,
            CheckedUrl(
                "https://github.com/team/bot@v1/~x/%20y", "https", "github.com", 443, None, False
            ),
        ),
    ],
)
def test_accepted_urls(url: str, allow_http: bool, expected: CheckedUrl) -> None:
    assert check(url, allow_http=allow_http) == expected


def test_a_numeric_host_name_is_rewritten_to_the_checked_address() -> None:
    checked = check("https://0x08080808/team/bot")
    assert checked.url == "https://8.8.8.8/team/bot"
    assert checked.address == V4("8.8.8.8")


# --- allow-list ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allow_hosts", "host", "port"),
    [
        ("http://127.0.0.1:8080/team/bot", ["127.0.0.1:8080"], "127.0.0.1", 8080),
        ("http://127.0.0.1:8080/team/bot", ["127.0.0.1"], "127.0.0.1", 8080),
        ("http://127.0.0.1/team/bot", ["127.0.0.1"], "127.0.0.1", 80),
        ("http://127.0.0.1/team/bot", ["127.0.0.1:80"], "127.0.0.1", 80),
        ("https://127.0.0.1/team/bot", ["127.0.0.1:443"], "127.0.0.1", 443),
        ("http://2130706433:8080/team/bot", ["127.0.0.1:8080"], "127.0.0.1", 8080),
        ("http://127.0.0.1:8080/team/bot", ["0x7f.1:8080"], "127.0.0.1", 8080),
        ("http://10.0.0.5/team/bot", ["git.example.org", " 10.0.0.5 "], "10.0.0.5", 80),
        ("https://localhost/team/bot", ["LOCALHOST."], "localhost", 443),
        (
            "https://gitea.localhost:3000/team/bot",
            ["gitea.localhost:3000"],
            "gitea.localhost",
            3000,
        ),
        ("https://[::1]:8443/team/bot", ["[::1]:8443"], "::1", 8443),
        ("https://[::1]:8443/team/bot", ["[::1]"], "::1", 8443),
        ("https://[::1]:8443/team/bot", ["::1"], "::1", 8443),
        ("https://[0:0::1]/team/bot", ["[0::0:1]:443"], "::1", 443),
        ("https://[fd00::5]/team/bot", ["FD00:0::5"], "fd00::5", 443),
        ("https://git.example.org/team/bot", ["Git.Example.Org."], "git.example.org", 443),
        ("https://xn--bcher-kva.example/a", ["b\u00fccher.example"], "xn--bcher-kva.example", 443),
    ],
)
def test_allow_listed_hosts_are_accepted(
    url: str, allow_hosts: list[str], host: str, port: int
) -> None:
    checked = check(url, allow_http=True, allow_hosts=tuple(allow_hosts))
    assert checked.allow_listed
    assert checked.host == host
    assert checked.port == port


@pytest.mark.parametrize(
    ("url", "allow_hosts", "message"),
    [
        (
            "http://127.0.0.1:8080/team/bot",
            ["127.0.0.1:9090"],
            "codeUrl host 127.0.0.1 is an internal address",
        ),
        (
            "http://10.0.0.5/team/bot",
            ["10.0.0.5:443"],
            "codeUrl host 10.0.0.5 is an internal address",
        ),
        (
            "https://10.0.0.5/team/bot",
            ["10.0.0.5:80"],
            "codeUrl host 10.0.0.5 is an internal address",
        ),
        (
            "http://127.0.0.2/team/bot",
            ["127.0.0.1"],
            "codeUrl host 127.0.0.2 is an internal address",
        ),
        (
            "https://[::ffff:127.0.0.1]/team/bot",
            ["127.0.0.1"],
            "codeUrl host [::ffff:127.0.0.1] is an internal address",
        ),
        ("https://[::1]/team/bot", ["[::1]:8443"], "codeUrl host [::1] is an internal address"),
        (
            "https://gitea.localhost/team/bot",
            ["gitea.localhost:3000"],
            "codeUrl host gitea.localhost is not allowed",
        ),
        (
            "https://localhost/team/bot",
            ["git.localhost"],
            "codeUrl host localhost is not allowed",
        ),
        (
            "https://[fe80::1%25eth0]/team/bot",
            ["fe80::1"],
            "codeUrl host [fe80::1%25eth0] must not carry an IPv6 zone id",
        ),
        (
            "https://127.0.0.1/",
            ["127.0.0.1"],
            "codeUrl must name a repository path",
        ),
        (
            "http://127.0.0.1/team/bot?x",
            ["127.0.0.1"],
            "codeUrl must not contain a query (?...)",
        ),
    ],
)
def test_allow_list_misses_and_other_rules(url: str, allow_hosts: list[str], message: str) -> None:
    assert refused(url, allow_http=True, allow_hosts=tuple(allow_hosts)) == message


def test_allow_listing_a_public_host_is_recorded() -> None:
    checked = check("https://git.example.org/team/bot", allow_hosts=("git.example.org",))
    assert checked.allow_listed
    assert not check("https://git.example.org/team/bot").allow_listed


@pytest.mark.parametrize(
    ("host", "port", "allow_hosts", "expected"),
    [
        ("127.0.0.1", 8080, ("127.0.0.1:8080",), True),
        ("127.0.0.1", 8081, ("127.0.0.1:8080",), False),
        ("127.1", 22, ("127.0.0.1",), True),
        ("[::1]", 443, ("::1",), True),
        ("::1", 443, ("[::1]:443",), True),
        ("::1", 80, ("[::1]:443",), False),
        ("GIT.example.org.", 443, ("git.example.org",), True),
        ("git.example.org", 443, ("example.org",), False),
        ("sub.git.example.org", 443, ("git.example.org",), False),
        ("git.example.org", 443, (), False),
        ("1.2.3.4.5", 443, ("1.2.3.4",), False),
        ("", 443, ("localhost",), False),
    ],
)
def test_is_allow_listed(
    host: str, port: int, allow_hosts: tuple[str, ...], expected: bool
) -> None:
    assert is_allow_listed(host, port, allow_hosts) is expected


@pytest.mark.parametrize(
    "entry",
    [
        "https://git.example.org",
        "git.example.org:0",
        "host:http",
        "[::1",
        "[::1]x",
        "[fe80::1%eth0]",
        "a b",
        "",
    ],
)
def test_malformed_allow_list_entries_are_a_configuration_error(entry: str) -> None:
    with pytest.raises(ValueError, match="BOTARENA_GIT_ALLOW_HOSTS entry") as info:
        is_allow_listed("git.example.org", 443, ("git.example.org:80", entry))
    assert not isinstance(info.value, SourceUrlError)
    assert repr(entry) in str(info.value)


# --- resolution at fetch time ------------------------------------------------------------


AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]


def answer(*addresses: str) -> list[AddrInfo]:
    infos: list[AddrInfo] = []
    for text in addresses:
        if ":" in text:
            infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, 443, 0, 0)))
        else:
            infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, 443)))
    return infos


class FakeResolver:
    def __init__(self, result: list[AddrInfo] | Exception) -> None:
        self.result = result
        self.calls: list[tuple[object, object]] = []

    def __call__(self, host: object, port: object, *args: object, **kwargs: object) -> Any:
        self.calls.append((host, port))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def fake_resolver(
    monkeypatch: pytest.MonkeyPatch, result: list[AddrInfo] | Exception
) -> FakeResolver:
    resolver = FakeResolver(result)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return resolver


def test_public_answers_are_returned_once_each(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver = fake_resolver(
        monkeypatch, answer("140.82.121.4", "2606:50c0:8000::154", "140.82.121.4")
    )
    addresses = resolve_public_addresses("GitHub.com.", 443, allow_hosts=())
    assert addresses == [V4("140.82.121.4"), V6("2606:50c0:8000::154")]
    assert resolver.calls == [("github.com", 443)]


def test_idn_hosts_are_looked_up_in_punycode(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver = fake_resolver(monkeypatch, answer("93.184.215.14"))
    assert resolve_public_addresses("b\u00fccher.example", 443, allow_hosts=()) == [
        V4("93.184.215.14")
    ]
    assert resolver.calls == [("xn--bcher-kva.example", 443)]


@pytest.mark.parametrize(
    "addresses",
    [
        ("140.82.121.4", "127.0.0.1"),
        ("10.0.0.7",),
        ("140.82.121.4", "169.254.169.254"),
        ("2606:50c0:8000::154", "::1"),
        ("2606:50c0:8000::154", "fe80::1%eth0"),
        ("::ffff:192.168.0.1",),
        ("64:ff9b::a9fe:a9fe",),
        ("100.64.1.1", "8.8.8.8"),
    ],
)
def test_any_internal_answer_refuses_the_host(
    monkeypatch: pytest.MonkeyPatch, addresses: tuple[str, ...]
) -> None:
    fake_resolver(monkeypatch, answer(*addresses))
    with pytest.raises(SourceUrlError) as info:
        resolve_public_addresses("rebind.example", 443, allow_hosts=())
    assert str(info.value) == "codeUrl host rebind.example resolves to an internal address"


def test_internal_answers_are_fine_for_allow_listed_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_resolver(monkeypatch, answer("10.0.0.7", "fd00::7"))
    addresses = resolve_public_addresses(
        "git.corp.example", 8443, allow_hosts=("git.corp.example:8443",)
    )
    assert addresses == [V4("10.0.0.7"), V6("fd00::7")]
    with pytest.raises(SourceUrlError, match="resolves to an internal address"):
        resolve_public_addresses("git.corp.example", 443, allow_hosts=("git.corp.example:8443",))


@pytest.mark.parametrize(
    "result",
    [socket.gaierror(socket.EAI_NONAME, "Name or service not known"), OSError("network down"), []],
)
def test_lookup_failures(
    monkeypatch: pytest.MonkeyPatch, result: list[AddrInfo] | Exception
) -> None:
    fake_resolver(monkeypatch, result)
    with pytest.raises(SourceUrlError) as info:
        resolve_public_addresses("nowhere.example", 443, allow_hosts=())
    assert str(info.value) == "codeUrl host nowhere.example does not resolve"


def test_answers_of_other_families_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    odd: AddrInfo = (socket.AF_UNIX, socket.SOCK_STREAM, 0, "", ("/run/x",))
    fake_resolver(monkeypatch, [odd, *answer("8.8.4.4")])
    assert resolve_public_addresses("dns.example", 443, allow_hosts=()) == [V4("8.8.4.4")]


def test_unparsable_answers_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_resolver(monkeypatch, [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("not-an-ip", 443))])
    with pytest.raises(SourceUrlError) as info:
        resolve_public_addresses("odd.example", 443, allow_hosts=())
    assert str(info.value) == "codeUrl host odd.example resolves to an unusable address"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("8.8.8.8", V4("8.8.8.8")),
        ("134744072", V4("8.8.8.8")),
        ("[2606:4700::1111]", V6("2606:4700::1111")),
    ],
)
def test_ip_literals_are_not_looked_up(
    monkeypatch: pytest.MonkeyPatch, host: str, expected: ipaddress.IPv4Address
) -> None:
    resolver = fake_resolver(monkeypatch, AssertionError("must not resolve"))
    assert resolve_public_addresses(host, 443, allow_hosts=()) == [expected]
    assert resolver.calls == []


@pytest.mark.parametrize(
    ("host", "allow_hosts", "message"),
    [
        ("127.1", (), "codeUrl host 127.1 is an internal address"),
        ("::1", (), "codeUrl host ::1 is an internal address"),
        ("localhost", (), "codeUrl host localhost is not allowed"),
        ("git.localhost.", (), "codeUrl host git.localhost is not allowed"),
        ("256.1.1.1", (), "codeUrl host 256.1.1.1 is not a valid IPv4 address"),
        ("exa_mple.com", (), "codeUrl host exa_mple.com is not a valid host name"),
        ("[fe80::1%25eth0]", ("fe80::1",), "must not carry an IPv6 zone id"),
    ],
)
def test_resolution_refuses_bad_hosts_without_a_lookup(
    monkeypatch: pytest.MonkeyPatch, host: str, allow_hosts: tuple[str, ...], message: str
) -> None:
    resolver = fake_resolver(monkeypatch, AssertionError("must not resolve"))
    with pytest.raises(SourceUrlError) as info:
        resolve_public_addresses(host, 443, allow_hosts=allow_hosts)
    assert message in str(info.value)
    assert resolver.calls == []


def test_allow_listed_literals_resolve_to_themselves(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_resolver(monkeypatch, AssertionError("must not resolve"))
    assert resolve_public_addresses("127.0.0.1", 8080, allow_hosts=("127.0.0.1",)) == [
        V4("127.0.0.1")
    ]
    fake_resolver(monkeypatch, answer("127.0.0.1"))
    assert resolve_public_addresses("localhost", 3000, allow_hosts=("localhost:3000",)) == [
        V4("127.0.0.1")
    ]


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_resolution_checks_the_port(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    fake_resolver(monkeypatch, answer("8.8.8.8"))
    with pytest.raises(SourceUrlError) as info:
        resolve_public_addresses("dns.example", port, allow_hosts=())
    assert str(info.value) == "codeUrl port must be a number from 1 to 65535"


def test_checked_url_feeds_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver = fake_resolver(monkeypatch, answer("140.82.121.4"))
    checked = check("https://GitHub.com./team/bot")
    assert resolve_public_addresses(checked.host, checked.port, allow_hosts=()) == [
        V4("140.82.121.4")
    ]
    assert resolver.calls == [("github.com", 443)]
