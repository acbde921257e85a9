"""Readiness: whether this server can do its work now, each check named, for a load balancer
or an orchestrator to route by (``/readyz``). Liveness stays ``/healthz``.

A check says what fails in words a person can act on, never the database's address or its
driver's message (which may name hosts and users).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from botarena.db import migrate
from botarena.readiness import Builds, unavailable
from botarena.settings import Settings

CHECKS = ("database", "migrations", "builds", "sandbox")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: not checked (it needs what failed before it)
    detail: str | None = None


def readiness(engine: Engine, settings: Settings, builds: Builds | None) -> list[Check]:
    """Every check, in :data:`CHECKS` order; the migrations are not checked when the
    database does not answer."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        detail = f"the database did not answer ({type(exc).__name__})"
        checks = [
            Check("database", False, detail),
            Check("migrations", None, "not checked: the database did not answer"),
        ]
    else:
        checks = [Check("database", True), _migrations(engine)]
    problems = {p.part: p.reason for p in unavailable(settings, builds, ask=False)}
    checks.append(Check("builds", "builds" not in problems, problems.get("builds")))
    checks.append(Check("sandbox", "matches" not in problems, problems.get("matches")))
    return checks


def _migrations(engine: Engine) -> Check:
    current, head = migrate.current_revision(engine), migrate.head_revision()
    if current == head:
        return Check("migrations", True)
    detail = f"the database is at revision {current or 'none'}, this version needs {head}"
    return Check("migrations", False, f"{detail}: run `botarena migrate`")
