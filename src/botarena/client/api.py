"""A thin typed wrapper over the REST API, raising :class:`ApiError` with the server's sentence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from botarena.client.config import ClientConfig
from botarena.closing import Closing

API = "/api/v1"


class ApiError(RuntimeError):
    """The server answered with an error body, or could not be reached."""

    def __init__(self, error: str, message: str | None = None, status: int | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.message = message
        self.status = status


class ApiClient(Closing):
    """Calls to one botarena server with one (optional) token."""

    def __init__(self, config: ClientConfig, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {config.token}"} if config.token else {}
        self.server = config.server
        self._http = httpx.Client(base_url=config.server, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request; the decoded JSON answer, or ApiError."""
        try:
            response = self._http.request(method, API + path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApiError(
                f"Cannot reach the botarena server at {self.server}",
                f"{type(exc).__name__}: {exc}. Is 'botarena serve' running?",
            ) from exc
        if response.status_code >= 400:
            raise _error_from(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def create_token(self, username: str, password: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "POST", "/auth/tokens", json={"username": username, "password": password}
        )
        return result

    def me(self) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", "/me")
        return result

    def create_agent(self, name: str, game: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", "/agents", json={"name": name, "game": game})
        return result

    def agent_by_name(self, name: str) -> dict[str, Any]:
        page = self.request("GET", "/agents", params={"name": name})
        if not page["items"]:
            raise ApiError(f"No agent named {name}", "Create it with 'botarena agent create'.")
        result: dict[str, Any] = page["items"][0]
        return result

    def submit_url(self, agent_id: str, code_url: str, ref: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"agentId": agent_id, "codeUrl": code_url}
        if ref:
            body["ref"] = ref
        result: dict[str, Any] = self.request("POST", "/submissions", json=body)
        return result

    def submit_archive(self, agent_id: str, archive: Path) -> dict[str, Any]:
        with archive.open("rb") as handle:
            result: dict[str, Any] = self.request(
                "POST",
                f"/agents/{agent_id}/submissions",
                files={"archive": (archive.name, handle, "application/gzip")},
            )
        return result

    def agent_id(self, name_or_id: str) -> str:
        """An agent's id from its id (``agt-…``) or its name."""
        if name_or_id.startswith("agt-"):
            return name_or_id
        return str(self.agent_by_name(name_or_id)["id"])

    def create_match(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", "/matches", json=body)
        return result

    def match(self, match_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/matches/{match_id}")
        return result

    def cancel_match(self, match_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", f"/matches/{match_id}/cancel")
        return result

    def replay(self, match_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/matches/{match_id}/replay")
        return result

    def rerun(self, match_id: str) -> dict[str, Any]:
        """What re-running a finished match takes: seed, configuration, each seat's code."""
        result: dict[str, Any] = self.request("GET", f"/matches/{match_id}/rerun")
        return result

    def download(self, path: str, dest: Path, timeout: float = 300.0) -> int:
        """Stream ``path`` (under the API) into the file ``dest``; the bytes written. A Git
        submission's source is fetched again by the server first, hence the long timeout."""
        try:
            with self._http.stream("GET", API + path, timeout=timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_from(response)
                written = 0
                with dest.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                        written += len(chunk)
                return written
        except httpx.HTTPError as exc:
            raise ApiError(
                f"Lost the connection to the botarena server at {self.server}", str(exc)
            ) from exc

    def build_status(self, submission_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/submissions/{submission_id}/build-status")
        return result

    def rebuild(self, submission_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", f"/submissions/{submission_id}/rebuild")
        return result

    def events(self, submission_id: str) -> Iterator[dict[str, Any]]:
        """The build's events as they happen (Server-Sent Events), until the build is over."""
        url = f"{API}/submissions/{submission_id}/events"
        try:
            with self._http.stream(
                "GET", url, headers={"Accept": "text/event-stream"}, timeout=None
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error_from(response)
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        yield json.loads(line[len("data: ") :])
        except httpx.HTTPError as exc:
            raise ApiError(
                f"Lost the connection to the botarena server at {self.server}", str(exc)
            ) from exc

    def build_logs(self, submission_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/submissions/{submission_id}/build-logs")
        return result


def _error_from(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        message = body.get("message")
        fields = body.get("fields")
        if isinstance(fields, list) and fields:
            detail = "; ".join(f"{f.get('field')}: {f.get('message')}" for f in fields)
            message = f"{message} {detail}" if message else detail
        return ApiError(
            body["error"], message if isinstance(message, str) else None, response.status_code
        )
    return ApiError(
        f"The server answered {response.status_code}", response.text[:200], response.status_code
    )
