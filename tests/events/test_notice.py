"""Notices on the wire: small payloads, refused when too large, unreadable ones ignored, and
a relay's batch without the log sizes that a newer one makes stale."""

from __future__ import annotations

import pytest

from botarena.events import Notice
from botarena.events.notice import MAX_PAYLOAD_BYTES, decode, encode
from botarena.events.postgres import _without_superseded


def test_a_notice_goes_and_comes_back_whole() -> None:
    notice = Notice("submission:sub-1", {"id": 7, "status": "building", "at": "2026-01-01"})
    payload = encode(notice, "proc-a")
    assert len(payload) < 200
    assert decode(payload) == ("proc-a", notice)


def test_a_notice_too_large_for_notify_is_refused() -> None:
    with pytest.raises(ValueError, match="too large"):
        encode(Notice("submission:sub-1", {"text": "x" * MAX_PAYLOAD_BYTES}), "proc-a")


@pytest.mark.parametrize("payload", ["", "not json", "[]", '{"o": 1, "t": "x", "d": {}}'])
def test_unreadable_payloads_are_ignored(payload: str) -> None:
    assert decode(payload) is None


def test_only_the_newest_log_size_of_a_topic_is_sent() -> None:
    batch = [
        Notice("submission:a", {"log": 10}, latest=True),
        Notice("submission:a", {"id": 3, "status": "building", "at": "t"}),
        Notice("submission:b", {"log": 5}, latest=True),
        Notice("submission:a", {"log": 30}, latest=True),
    ]
    assert _without_superseded(batch) == batch[1:]
