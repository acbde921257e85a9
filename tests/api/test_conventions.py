"""API-wide conventions: JSON error bodies, 422 with fields, malformed JSON, pagination."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support.accounts import Account


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert "/api/v1/submissions/{submission_id}/build-status" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_schema_error_is_422_with_fields(client: TestClient, alice: Account) -> None:
    answer = client.post("/api/v1/agents", json={"name": 5, "game": 7}, headers=alice.headers)
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "Request is not valid"
    assert {f["field"] for f in body["fields"]} == {"name", "game"}


def test_malformed_json_is_400(client: TestClient, alice: Account) -> None:
    answer = client.post(
        "/api/v1/agents",
        content=b'{"name": "x", ',
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "Request body is not valid JSON"


def test_unknown_route_and_method_use_the_error_body(client: TestClient) -> None:
    assert client.get("/api/v1/nope").json() == {"error": "Not found"}
    answer = client.put("/api/v1/agents")
    assert answer.status_code == 405
    assert answer.json() == {"error": "Method not allowed"}


def test_request_id_is_echoed(client: TestClient) -> None:
    answer = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert answer.headers["x-request-id"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


def test_pagination(client: TestClient, alice: Account) -> None:
    for index in range(5):
        created = client.post(
            "/api/v1/agents",
            json={"name": f"bot{index}", "game": "tictactoe"},
            headers=alice.headers,
        )
        assert created.status_code == 201
    page = client.get("/api/v1/agents", params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 1
    assert [a["name"] for a in page["items"]] == ["bot1", "bot2"]
    default = client.get("/api/v1/agents").json()
    assert default["limit"] == 50 and default["offset"] == 0 and len(default["items"]) == 5
    for bad in ({"limit": 0}, {"limit": 100000}, {"offset": -1}, {"limit": "x"}):
        answer = client.get("/api/v1/agents", params=bad)
        assert answer.status_code == 422, bad
        assert answer.json()["fields"][0]["field"] in ("limit", "offset")
