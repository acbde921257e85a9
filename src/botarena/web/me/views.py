"""What the account page shows: one's API tokens as the API lists them (never a secret), the
form's values read into the API's token options, and how to point the command line here."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.orm import Session

from botarena.accounts.models import User
from botarena.accounts.schemas import TokenOptions, TokenOut
from botarena.accounts.tokens import TokenService
from botarena.agents.teams import AgentTeams
from botarena.clock import utcnow
from botarena.teams.models import Team
from botarena.teams.service import TeamService

# More tokens than anyone keeps; the page says so when some are left out.
SHOWN = 200
# The form's fields, by the name of the option each fills.
FIELDS = {"name": "name", "expiresInDays": "days", "expires_in_days": "days"}


@dataclass(frozen=True)
class TokenList:
    tokens: list[TokenOut]
    total: int


def tokens_of(session: Session, user: User) -> TokenList:
    """``user``'s tokens, oldest first, revoked and expired ones included."""
    rows, total = TokenService(session).page(user, SHOWN, 0)
    now = utcnow()
    # "current" marks the token a request was signed with; a page is signed with no token.
    return TokenList([TokenOut.of(row, now, "") for row in rows], total)


def token_options(name: str, days: str) -> tuple[TokenOptions | None, dict[str, str]]:
    """The options the form asks for, or the error of each field that is wrong."""
    errors: dict[str, str] = {}
    lifetime: int | None = None
    if days.strip():
        try:
            lifetime = int(days.strip())
        except ValueError:
            errors["days"] = "Enter a whole number of days, or leave it empty."
    if errors:
        return None, errors
    try:
        return TokenOptions(name=name.strip() or None, expires_in_days=lifetime), {}
    except ValidationError as exc:
        for problem in exc.errors():
            field = FIELDS.get(str(problem["loc"][0]) if problem["loc"] else "", "name")
            errors.setdefault(field, _sentence(field, problem["type"]))
        return None, errors


def _sentence(field: str, kind: str) -> str:
    if field == "days":
        return "Enter 1 to 3650 days, or leave it empty for the server's default."
    if kind == "string_too_long":
        return "A name has at most 64 characters."
    return "A name holds no control characters (such as line breaks)."


@dataclass(frozen=True)
class CliHint:
    """How to point the command line at this server."""

    server: str
    username: str

    @property
    def login(self) -> str:
        server, username = shlex.quote(self.server), shlex.quote(self.username)
        return f"botarena login --server {server} --username {username}"

    @property
    def environment(self) -> str:
        return f"export BOTARENA_SERVER={shlex.quote(self.server)}"


def teams_of(session: Session, user: User) -> Sequence[Team]:
    """The teams ``user`` is in, one per competition, newest membership first."""
    return TeamService(session, AgentTeams(session)).of_member(user)
