"""A dispatch slot's lease owner name fits the column PostgreSQL holds it in."""

from __future__ import annotations

from botarena.matches.dispatcher import lease_owner_name


def test_short_names_are_kept_and_long_ones_fit_and_stay_distinct() -> None:
    assert (
        lease_owner_name("host:12:abcdef", "127.0.0.1:50051", 3)
        == "host:12:abcdef:127.0.0.1:50051:3"
    )
    socket = "unix:/var/lib/botarena/a-long-data-folder/run/executor-12345.sock"
    names = {lease_owner_name("a-host-name:12345:abcdef", socket, slot) for slot in range(12)}
    assert len(names) == 12
    assert all(len(name) <= 64 and name.startswith("a-host-name:12345:abcdef:") for name in names)
