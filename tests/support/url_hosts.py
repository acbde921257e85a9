"""Hypothesis strategies for code URLs: hosts in every spelling, schemes, userinfo, ports, paths.

IPv4 addresses come in every spelling ``inet_aton`` reads (one to four parts, decimal, octal or
hex, leading zeros, a trailing dot), IPv6 in its forms that carry an IPv4 address and with zone
ids, names with IDNA look-alikes (full-width digits and dots, characters that NFKC turns into
``@``, ``/`` or ``:``), and resolver answers for a replaced ``socket.getaddrinfo``.
"""

from __future__ import annotations

import ipaddress
import socket

from hypothesis import strategies as st

from support.strategies import mostly
from support.url_oracle import V4, V6

NETWORKS = [
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
]
PUBLIC_NETWORKS = [
    ipaddress.IPv4Network(net)
    for net in ("8.8.8.0/24", "140.82.112.0/20", "151.101.0.0/16", "1.0.0.0/8", "93.184.0.0/16")
]


def within(networks: list[ipaddress.IPv4Network]) -> st.SearchStrategy[V4]:
    return st.tuples(st.sampled_from(networks), st.integers(0, 2**32 - 1)).map(
        lambda pair: pair[0][pair[1] % pair[0].num_addresses]
    )


# About half internal: loopback, private, metadata, ... in every spelling, or public.
IPV4 = st.one_of(
    st.integers(0, 2**32 - 1).map(V4),
    within(NETWORKS),
    within(PUBLIC_NETWORKS),
    within(PUBLIC_NETWORKS),
    st.sampled_from([V4("169.254.169.254"), V4("255.255.255.255"), V4(0)]),
)


@st.composite
def ipv4_spellings(draw: st.DrawFn, address: V4) -> str:
    """``address`` as inet_aton reads it: 1-4 parts, each decimal, octal or hex, leading zeros."""
    count = draw(st.integers(1, 4))
    value = int(address)
    numbers = [(value >> (8 * (3 - index))) & 0xFF for index in range(count - 1)]
    numbers.append(value & ((1 << (8 * (5 - count))) - 1))
    parts = []
    for number in numbers:
        radix = draw(st.sampled_from(["dec", "dec", "oct", "hex", "HEX"]))
        zeros = "0" * draw(st.integers(0, 3))
        if radix == "oct":
            parts.append("0" + zeros + format(number, "o"))
        elif radix == "dec":
            parts.append(str(number))  # a leading zero would make it octal
        else:
            digits = format(number, "x" if radix == "hex" else "X")
            parts.append(draw(st.sampled_from(["0x", "0X"])) + zeros + digits)
    return ".".join(parts) + draw(st.sampled_from(["", "", "."]))


IPV6 = st.one_of(
    st.integers(0, 2**128 - 1).map(V6),
    st.integers(0, 2**125 - 1).map(lambda low: V6((1 << 125) | low)),  # within 2000::/3
    IPV4.map(lambda v4: V6(f"::ffff:{v4}")),
    IPV4.map(lambda v4: V6(f"::{v4}")),
    IPV4.map(lambda v4: V6(f"64:ff9b::{v4}")),
    IPV4.map(lambda v4: V6((0x2002 << 112) | (int(v4) << 80) | 1)),
    st.tuples(IPV4, IPV4).map(
        lambda pair: V6((0x20010000 << 96) | (int(pair[0]) << 64) | (~int(pair[1]) & 0xFFFFFFFF))
    ),
    st.sampled_from(
        [
            V6(text)
            for text in (
                "::1",
                "::",
                "fe80::1",
                "fc00::1",
                "fd00:ec2::254",
                "ff02::1",
                "2001:db8::1",
                "2606:4700:4700::1111",
                "2a00:1450:4001::200e",
                "2001:4860:4860::8888",
            )
        ]
    ),
)


@st.composite
def ipv6_spellings(draw: st.DrawFn, address: V6) -> str:
    text = draw(st.sampled_from([address.compressed, address.exploded]))
    if address.ipv4_mapped is not None and draw(st.booleans()):
        text = f"::ffff:{address.ipv4_mapped}"
    if draw(st.booleans()):
        text = text.upper()
    zone = draw(mostly(st.just(""), st.sampled_from(["%25eth0", "%eth0", "%25", "%25lo%20"]), 4))
    return text + zone


LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
ODD_LABELS = st.sampled_from(
    [
        "localhost",
        "LocalHost",
        "bücher",
        "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45",  # full-width "example"
        "例え",
        "xn--bcher-kva",
        "xn--",
        "ß",
        "".join(chr(ord(ch) + 0xFEE0) for ch in "localhost"),
        "\uff11\uff12\uff17",  # full-width "127"
        "127\u30020\u30020\u30021",  # ideographic full stops
        "127.0.0.\u2488",  # DIGIT ONE FULL STOP: "1." under NFKC
        "127.0.0.\u00b9",  # superscript one
        "0x7f\uff0e1",  # full-width full stop
        "a\u200bb",  # zero-width space
        "ev\ufe6bil",  # small commercial at: "@" under NFKC
        "a\uff0fb",  # full-width solidus: "/" under NFKC
        "a\uff1a80",  # full-width colon
        "a\uff05b",  # full-width percent sign
        "-a",
        "a-",
        "a_b",
        "a" * 64,
        "%31%32%37",
        "0x",
        "08",
        "1e3",
    ]
)


@st.composite
def names(draw: st.DrawFn) -> str:
    labels = draw(st.lists(mostly(LABEL, ODD_LABELS, 6), min_size=1, max_size=4))
    name = ".".join(labels)
    if draw(mostly(st.just(False), st.just(True), 3)):
        name = "".join(ch.upper() if draw(st.booleans()) else ch for ch in name)
    return name + draw(mostly(st.just(""), st.sampled_from([".", ".."]), 4))


@st.composite
def hosts(draw: st.DrawFn) -> str:
    """A host as written in a URL: a name, IPv4 in any spelling, IPv6 in brackets or garbage."""
    kind = draw(st.sampled_from(["name", "name", "ipv4", "ipv4", "ipv6", "bare-ipv6", "text"]))
    if kind == "name":
        return draw(names())
    if kind == "ipv4":
        return draw(ipv4_spellings(draw(IPV4)))
    if kind == "text":
        return draw(st.text(max_size=12))
    spelled = draw(ipv6_spellings(draw(IPV6)))
    return f"[{spelled}]" if kind == "ipv6" else spelled


SCHEMES = mostly(
    st.sampled_from(["https://", "https://", "http://", "HTTPS://", "hTTp://"]),
    st.sampled_from(
        [
            *["ftp://", "git://", "ssh://", "file://", "https:/", "https:", "https:///", "//"],
            *["", "javascript:", "https+x://", "https:\\\\", " https://"],
        ]
    ),
    one_in=5,
)
USERINFO = mostly(
    st.just(""),
    st.sampled_from(["user@", "user:pass@", "good.com@", ":@", "@", "a@b@", "%40@", "u%40e.com@"]),
    one_in=5,
)
GOOD_PORTS = ["", "", "", ":443", ":8443", ":1", ":65535", ":00000443"]
BAD_PORTS = [":0", ":65536", ":99999", ":", ":-1", ":+80", ":0x50", ":\uff18\uff10", ": 80"]
PORTS = mostly(
    st.sampled_from(GOOD_PORTS),
    st.sampled_from([*BAD_PORTS, ":1e3", ":4294967297", ":" + "9" * 30]),
    one_in=4,
)
PATHS = mostly(
    st.sampled_from(["/team/bot.git", "/a", "/x/y/", "/@evil.com/x", "/.git", "/x:y@z"]),
    st.sampled_from(
        ["/", "", "/a?b", "/a#b", "/%2e%2e/x", "/a b", "//evil.com/x", "/a\\b", "/\u00e9"]
    ),
    one_in=4,
)
ENTRIES = [
    "127.0.0.1",
    "10.0.0.5:8443",
    "[::1]",
    "::1",
    "git.internal",
    "Git.Internal.:443",
    "localhost",
    "192.168.1.10:22",
    "0x7f.1",
    "[::ffff:10.1.2.3]:443",
    "github.com",
]
ALLOW = mostly(st.just([]), st.lists(st.sampled_from(ENTRIES), max_size=3), one_in=2)


@st.composite
def urls(draw: st.DrawFn) -> str:
    url = draw(SCHEMES) + draw(USERINFO) + draw(hosts()) + draw(PORTS) + draw(PATHS)
    return url + draw(mostly(st.just(""), st.text(max_size=5), 10))


ANSWERS = st.lists(
    st.one_of(
        IPV4.map(lambda a: (socket.AF_INET, (str(a), 443))),
        IPV6.map(lambda a: (socket.AF_INET6, (str(a), 443, 0, 0))),
        st.sampled_from(
            [
                (socket.AF_INET6, ("fe80::1%eth0", 443, 0, 2)),
                (socket.AF_INET6, ("2606:4700::1%eth0", 443, 0, 2)),
                (socket.AF_INET, ("not an address", 443)),
                (socket.AF_INET, (12345, 443)),
                (socket.AF_UNIX, "/run/socket"),
            ]
        ),
    ),
    max_size=4,
)
FAILURES = st.sampled_from(
    [None, None, None, socket.gaierror(socket.EAI_NONAME, "no"), OSError("down"), UnicodeError()]
)
