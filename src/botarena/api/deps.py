"""FastAPI dependencies every route shares: the settings and the request's database session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from botarena.api.admission import take_turn
from botarena.db.engine import SessionFactory, session_scope
from botarena.settings import Settings

_READING_METHODS = frozenset({"GET", "HEAD"})


def get_app_settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


def get_session(
    request: Request, _turn: Annotated[None, Depends(take_turn, scope="function")]
) -> Iterator[Session]:
    """One session per request, opened once the request has its turn (see
    :mod:`botarena.api.admission`); services commit, anything uncommitted is rolled back.

    A request that only asks (GET, HEAD) gets a reading session: on SQLite it takes no write
    lock unless it writes after all (see :func:`botarena.db.engine.build_session_factory`).
    """
    state = request.app.state
    reads = request.method in _READING_METHODS
    factory: SessionFactory = state.read_session_factory if reads else state.session_factory
    with session_scope(factory) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
# Closed (and its turn given back) once the route's answer is built, before it is sent: a
# slow reader never holds a connection.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
