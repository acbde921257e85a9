"""Property tests for the codeUrl checks: random hosts, IP spellings, userinfo, ports and IDNA.

Each property compares :func:`validate_code_url` and its helpers with an independent reading of
the same text: :mod:`urllib.parse` for where the host is, the C library's ``inet_aton`` (which
the resolver uses for numeric hosts) and :mod:`ipaddress` for what address it names and whether
that address is internal. Whatever the input, the only exception is :class:`SourceUrlError`.
DNS is never asked: ``socket.getaddrinfo`` is replaced wherever a lookup could happen.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from hypothesis import HealthCheck, Phase, event, example, given, note, settings
from hypothesis import strategies as st

from botarena.sources.addresses import normalise_host
from botarena.sources.urls import (
    CheckedUrl,
    IPAddress,
    SourceUrlError,
    is_allow_listed,
    is_internal_address,
    parse_ip_literal,
    resolve_public_addresses,
    validate_code_url,
)

from support.strategies import mostly
from support.url_hosts import (
    ALLOW,
    ANSWERS,
    ENTRIES,
    FAILURES,
    GOOD_PORTS,
    IPV4,
    IPV6,
    LABEL,
    PORTS,
    hosts,
    ipv4_spellings,
    ipv6_spellings,
    urls,
)
from support.url_oracle import (
    V4,
    V6,
    allow_entry,
    idna_mapped,
    inet_aton,
    looks_internal,
    matches_an_entry,
    resolver_reading,
    stricter,
)

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow],
)

DEFAULT_PORTS = {"https": 443, "http": 80}


def check_accepted(
    url: str, checked: CheckedUrl, *, allow_http: bool, allow_hosts: Sequence[str]
) -> None:
    """Everything that must hold of an accepted URL, read independently."""
    note(f"accepted as {checked}")
    normalised = urlsplit(checked.url)
    assert checked.url.isascii()
    assert normalised.scheme == checked.scheme in (("https", "http") if allow_http else ("https",))
    assert normalised.username is None and normalised.password is None
    assert "@" not in normalised.netloc
    assert not normalised.query and not normalised.fragment
    assert normalised.hostname == checked.host
    assert 1 <= checked.port <= 65535
    assert (normalised.port or DEFAULT_PORTS[checked.scheme]) == checked.port
    assert normalised.path.strip("/")

    # What git (through curl) connects to is the normalised URL's host: an address exactly
    # when the resolver would read it as one, and then the same address.
    reading = resolver_reading(checked.host)
    if checked.address is None:
        assert reading is None, f"{checked.host} is a name, but a resolver reads {reading}"
        assert checked.host == checked.host.lower() and not checked.host.endswith(".")
    else:
        assert reading == checked.address
        assert checked.host == str(checked.address)

    # The URL as submitted names the same host, as urllib and the resolver read it.
    original = urlsplit(url)
    assert original.username is None and original.password is None
    submitted = idna_mapped(original.hostname or "")
    seen = resolver_reading(submitted)
    if checked.address is None:
        assert seen is None and submitted.removesuffix(".") == checked.host
    else:
        assert seen in (None, checked.address)

    internal = [a for a in (checked.address, seen) if a is not None and looks_internal(a)]
    localhost = checked.host == "localhost" or checked.host.endswith(".localhost")
    if internal or localhost:
        assert checked.allow_listed, f"{checked.host} is internal and was accepted"
    assert checked.allow_listed == is_allow_listed(checked.host, checked.port, allow_hosts)
    assert checked.allow_listed == matches_an_entry(checked.host, checked.port, allow_hosts)


def validate(url: str, *, allow_http: bool, allow_hosts: Sequence[str]) -> CheckedUrl | None:
    """The check as the app calls it; None for a refusal, which must be a SourceUrlError."""
    note(f"url={url!r} allow_http={allow_http} allow_hosts={allow_hosts!r}")
    try:
        checked = validate_code_url(url, allow_http=allow_http, allow_hosts=allow_hosts)
    except SourceUrlError as exc:
        refusal = str(exc)
    else:
        check_accepted(url, checked, allow_http=allow_http, allow_hosts=allow_hosts)
        kind = "an address" if checked.address is not None else "a name"
        event(f"accepted: {kind}" + (", allow-listed" if checked.allow_listed else ""))
        return checked
    assert refusal.startswith("codeUrl"), refusal
    event("refused")
    return None


# --------------------------------------------------------------------------- the properties


@PROPERTY
@given(url=urls(), allow_http=mostly(st.just(True), st.just(False), 3), allow_hosts=ALLOW)
@example(url="https://good.com@evil.com/team/bot", allow_http=False, allow_hosts=["good.com"])
@example(url="https://evil.com#@good.com/team/bot", allow_http=False, allow_hosts=[])
@example(url="https://evil.com\\@good.com/team/bot", allow_http=False, allow_hosts=[])
@example(url="https://127.0.0.\u2488/team/bot", allow_http=False, allow_hosts=[])
@example(url="https://[::ffff:7f00:1]:443/team/bot", allow_http=False, allow_hosts=[])
@example(url="https://0x7f.1:8443/team/bot", allow_http=False, allow_hosts=["127.0.0.1:8443"])
def test_any_code_url_is_refused_or_names_the_public_host_git_will_reach(
    url: str, allow_http: bool, allow_hosts: list[str]
) -> None:
    validate(url, allow_http=allow_http, allow_hosts=allow_hosts)


@PROPERTY
@given(host=hosts(), port=st.sampled_from(GOOD_PORTS), allow_hosts=ALLOW)
def test_any_host_in_a_plain_url(host: str, port: str, allow_hosts: list[str]) -> None:
    validate(f"https://{host}{port}/team/bot.git", allow_http=False, allow_hosts=allow_hosts)


@PROPERTY
@given(
    data=st.data(),
    allow_hosts=st.lists(st.sampled_from(ENTRIES), min_size=1, max_size=3),
    port=st.sampled_from(["", ":22", ":443", ":8443", ":9999"]),
)
def test_allow_listed_hosts_match_by_address_and_port(
    data: st.DataObject, allow_hosts: list[str], port: str
) -> None:
    """One of the listed hosts, spelled some other way, on a port that may not be listed."""
    host, _ = allow_entry(data.draw(st.sampled_from(allow_hosts)))
    address = resolver_reading(host)
    if isinstance(address, V4):
        host = data.draw(ipv4_spellings(address))
    elif isinstance(address, V6):
        host = f"[{data.draw(ipv6_spellings(address))}]"
    else:
        host = data.draw(st.sampled_from([host, host.upper(), f"{host}."]))
    checked = validate(f"https://{host}{port}/team/bot", allow_http=False, allow_hosts=allow_hosts)
    if checked is None and "%" not in host:
        # A plain URL to an internal host is refused only when no entry lists it on that port.
        canonical = str(address) if address is not None else host.lower().removesuffix(".")
        assert not matches_an_entry(canonical, int(port[1:] or 443), allow_hosts)


@PROPERTY
@given(url=st.text(max_size=60), allow_http=st.booleans())
def test_arbitrary_text_is_refused_or_checked(url: str, allow_http: bool) -> None:
    validate(url, allow_http=allow_http, allow_hosts=[])
    validate(f"https://{url}", allow_http=allow_http, allow_hosts=[])


@PROPERTY
@given(data=st.data(), address=IPV4, port=PORTS, allow_hosts=ALLOW)
def test_every_ipv4_spelling_is_read_as_the_resolver_reads_it(
    data: st.DataObject, address: V4, port: str, allow_hosts: list[str]
) -> None:
    spelled = data.draw(ipv4_spellings(address))
    assert parse_ip_literal(spelled) == address
    if not spelled.endswith("."):
        assert inet_aton(spelled) == address  # the oracle agrees about the spelling itself
    checked = validate(f"https://{spelled}{port}/team/bot", allow_http=False, allow_hosts=[])
    if checked is not None:
        assert checked.address == address and not looks_internal(address)
    elif port in GOOD_PORTS:
        # Refused with a valid port: only because the address is internal.
        assert is_internal_address(address)
        assert looks_internal(address) or stricter(address)
    listed = validate(f"https://{spelled}/team/bot", allow_http=False, allow_hosts=allow_hosts)
    if listed is None and looks_internal(address):
        assert not matches_an_entry(str(address), 443, allow_hosts)


@PROPERTY
@given(data=st.data(), address=IPV6)
def test_every_ipv6_form_is_judged_by_the_address_it_reaches(
    data: st.DataObject, address: V6
) -> None:
    spelled = data.draw(ipv6_spellings(address))
    try:
        assert parse_ip_literal(spelled) == address
    except SourceUrlError:
        assert "%" in spelled  # a zone id that is not one
    checked = validate(f"https://[{spelled}]/team/bot", allow_http=False, allow_hosts=[])
    if checked is not None:
        assert "%" not in spelled  # a zone id is always refused
        assert checked.address == address and not looks_internal(address)
    elif "%" not in spelled:
        assert is_internal_address(address)
        assert looks_internal(address) or stricter(address)
    # Without brackets an IPv6 host is no host at all.
    assert validate(f"https://{spelled}/team/bot", allow_http=False, allow_hosts=[]) is None


@PROPERTY
@given(address=st.one_of(IPV4, IPV6))
def test_internal_means_what_ipaddress_says(address: IPAddress) -> None:
    verdict = is_internal_address(address)
    if looks_internal(address):
        assert verdict
    else:
        assert verdict == stricter(address)


@PROPERTY
@given(host=st.one_of(hosts(), st.text(max_size=20)))
def test_host_helpers_refuse_only_with_source_url_error(host: str) -> None:
    for in_url in (True, False):
        try:
            normalised = normalise_host(host, in_url=in_url)
        except SourceUrlError:
            continue
        assert normalised.name.isascii() and normalised.name == normalised.name.lower()
        if normalised.address is not None:
            assert normalised.name == str(normalised.address)
            assert resolver_reading(normalised.name) == normalised.address
        else:
            assert resolver_reading(normalised.name) is None
    with contextlib.suppress(SourceUrlError):
        parse_ip_literal(host)
    for port in (0, 1, 443, 65535, 65536):
        assert isinstance(is_allow_listed(host, port, ["127.0.0.1", "git.internal:22"]), bool)


@PROPERTY
@given(
    name=st.lists(LABEL, min_size=1, max_size=3).map(".".join),
    answers=ANSWERS,
    failure=FAILURES,
    allow_hosts=ALLOW,
)
@example(
    name="rebind.example",
    answers=[(socket.AF_INET, ("127.0.0.1", 443))],
    failure=None,
    allow_hosts=[],
)
def test_resolution_returns_only_public_answers(
    name: str, answers: list[tuple[int, Any]], failure: Exception | None, allow_hosts: list[str]
) -> None:
    calls: list[str] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(host)
        if failure is not None:
            raise failure
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr) for family, sockaddr in answers]

    note(f"answers={answers!r} failure={failure!r}")
    with mock.patch.object(socket, "getaddrinfo", getaddrinfo):
        try:
            found = resolve_public_addresses(name, 443, allow_hosts=allow_hosts)
        except SourceUrlError:
            return
    literal = parse_ip_literal(name)
    if literal is not None:  # a name that is an address is never looked up
        assert calls == [] and found == [literal]
        assert resolver_reading(name) in (None, literal)
        assert not looks_internal(literal) or matches_an_entry(name, 443, allow_hosts)
        return
    assert calls == [name] and resolver_reading(name) is None
    usable = [
        resolver_reading(sockaddr[0].partition("%")[0])
        for family, sockaddr in answers
        if family in (socket.AF_INET, socket.AF_INET6)
    ]
    assert all(address is not None for address in usable)
    assert found == list(dict.fromkeys(usable))
    if not matches_an_entry(name, 443, allow_hosts):
        assert not any(looks_internal(address) for address in found)


@PROPERTY
@given(url=urls(), answers=ANSWERS, allow_hosts=ALLOW)
def test_fetch_time_checks_agree_with_submission_time(
    url: str, answers: list[tuple[int, Any]], allow_hosts: list[str]
) -> None:
    """The two calls a fetch makes, in order: the host git is pinned to is never internal."""
    checked = validate(url, allow_http=True, allow_hosts=allow_hosts)
    if checked is None:
        return
    calls: list[str] = []

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        calls.append(host)
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr) for family, sockaddr in answers]

    with mock.patch.object(socket, "getaddrinfo", getaddrinfo):
        try:
            found = resolve_public_addresses(checked.host, checked.port, allow_hosts=allow_hosts)
        except SourceUrlError:
            assert checked.address is None  # a checked literal resolves to itself
            return
    if checked.address is not None:
        assert found == [checked.address] and calls == []
    if not checked.allow_listed:
        assert not any(looks_internal(address) for address in found)
