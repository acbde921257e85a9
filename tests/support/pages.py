"""Reading the web pages in tests: HTML parsed with the standard library, forms and sign-in."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from httpx import Response

from botarena.db.engine import SessionFactory
from botarena.executor.outcomes import AgentOutcome, MatchResult, MatchStatus
from botarena.matches.queue import MatchQueue
from botarena.matches.recording import MatchRecorder
from botarena.ratings.hook import RatingsHook
from botarena.settings import Settings

from support.accounts import Account


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The text inside, each piece apart, white space collapsed."""
        return " ".join(" ".join(self.parts).split())


class Page(HTMLParser):
    """Every element with its attributes and the text inside it, and the page's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.text_parts: list[str] = []
        self._open: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {key: value or "" for key, value in attrs})
        self.elements.append(element)
        if tag not in {"input", "meta", "link", "br", "img", "hr"}:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)
        for element in self._open:
            element.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def all(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def by_id(self, element_id: str) -> Element:
        found = [e for e in self.elements if e.attrs.get("id") == element_id]
        assert len(found) == 1, f"{len(found)} elements with id {element_id}"
        return found[0]

    def csrf(self) -> str:
        tokens = {e.attrs["value"] for e in self.all("input", name="csrf_token")}
        assert len(tokens) == 1, tokens
        return tokens.pop()


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def page_of(answer: Response) -> Page:
    assert answer.headers["content-type"].startswith("text/html"), answer.headers
    return parse(answer.text)


def sign_in(client: TestClient, username: str, password: str) -> Response:
    """Sign in through the form (its token first); the answer to the POST, not followed."""
    token = page_of(client.get("/login")).csrf()
    return client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": password},
        follow_redirects=False,
    )


def play_ranked(
    client: TestClient,
    factory: SessionFactory,
    settings: Settings,
    admin: Account,
    pair: tuple[str, str],
    winner: int | None,
) -> str:
    """A ranked match created through the API, then claimed and recorded as the dispatcher
    records one (the ratings change and the bus hears it)."""
    body = {"agent1Id": pair[0], "agent2Id": pair[1], "ranked": True}
    created = client.post("/api/v1/matches", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    match_id: str = created.json()["id"]
    with factory() as session:
        match = MatchQueue(session, settings).claim_next("slot", "127.0.0.1:1")
        assert match is not None and match.id == match_id
        scores = [0.5, 0.5] if winner is None else [float(p == winner) for p in range(2)]
        result = MatchResult(MatchStatus.FINISHED, winner, scores, [AgentOutcome()] * 2, 9, 50)
        MatchRecorder(session, settings, RatingsHook()).record(match, result)
        session.commit()
    return match_id
