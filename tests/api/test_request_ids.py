"""Request ids: taken from ``X-Request-ID`` when well-formed (else made), returned on every
answer, the unexpected failure's included, and bound into every log line the request causes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from support.accounts import Account
from support.court import Court
from support.logs import captured_log, log_lines


def test_a_given_id_is_on_the_answer_and_every_line_it_causes(
    court: Court, client: TestClient, alice: Account
) -> None:
    pair = (court.ready(alice, "traced-a")[0], court.ready(alice, "traced-b")[0])
    with captured_log() as stream:
        answer = client.post(
            "/api/v1/matches",
            json={"agent1Id": pair[0], "agent2Id": pair[1]},
            headers={**alice.headers, "X-Request-ID": "trace-1.a_b"},
        )
        assert answer.status_code == 201, answer.text
        assert answer.headers["x-request-id"] == "trace-1.a_b"
        other = client.get("/healthz").headers["x-request-id"]
    lines = log_lines(stream)
    # The service's line (written on a worker thread) and the access line.
    by_id = {line["event"]: line.get("request_id") for line in lines}
    assert by_id == {"Match created": "trace-1.a_b", "request": other}, lines
    assert [line["request_id"] for line in lines if line["event"] == "request"] == [
        "trace-1.a_b",
        other,
    ]


@pytest.mark.parametrize(
    "given", ["x" * 65, "two words", "semi;colon", "percent%20", "slash/es", ""]
)
def test_a_malformed_id_is_replaced_by_a_made_one(client: TestClient, given: str) -> None:
    with captured_log() as stream:
        answer = client.get("/healthz", headers={"X-Request-ID": given})
    made = answer.headers["x-request-id"]
    assert made != given and len(made) == 32 and made.isalnum()
    assert [line["request_id"] for line in log_lines(stream)] == [made]


def test_an_unexpected_failure_keeps_its_request_id(client: TestClient) -> None:
    def explode() -> None:
        raise RuntimeError("boom")

    client.app.add_api_route("/boom-for-request-id", explode)  # type: ignore[attr-defined]
    quiet = TestClient(client.app, raise_server_exceptions=False)
    with captured_log() as stream:
        answer = quiet.get("/boom-for-request-id", headers={"X-Request-ID": "boom-7"})
    assert answer.status_code == 500
    assert answer.headers["x-request-id"] == "boom-7"
    failure = [line for line in log_lines(stream) if line["event"] == "unhandled error"]
    assert [line["request_id"] for line in failure] == ["boom-7"]
