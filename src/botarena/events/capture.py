"""Notices from a unit of work, published only once its transaction committed.

Watchers say which rows become notices: new rows of a class (a status history row) or changed
ones (a rating). After each flush the session keeps the notices of the rows it wrote, tagged
with the transaction (or savepoint) that wrote them; a commit publishes them, a rollback of
that transaction drops them, so no listener ever sees a change that did not happen. On
PostgreSQL the notices are sent with ``NOTIFY`` in the writing transaction itself, which gives
the same guarantee from the database, and one order (the commits') in every process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from botarena.events.notice import Notice

Extract = Callable[[Any], Iterable[Notice]]
Publish = Callable[[Sequence[Notice]], None]
# Sends notices inside the session's own transaction (PostgreSQL's NOTIFY): the database
# delivers them at commit, in commit order, and drops them with a rollback or a savepoint's.
SendWithin = Callable[[Session, Sequence[Notice]], None]

_PENDING = "botarena_events_pending"


class Capture:
    """Turns written rows into notices and publishes them after commit."""

    def __init__(self, publish: Publish, send_within: SendWithin | None = None) -> None:
        self._publish = publish
        self._send_within = send_within
        self._on_new: dict[type, list[Extract]] = {}
        self._on_change: dict[type, list[Extract]] = {}

    def watch(self, model: type, extract: Extract, *, changes: bool = False) -> None:
        """New rows of ``model`` (and, with ``changes``, rows changed in place) become the
        notices ``extract`` returns for them."""
        self._on_new.setdefault(model, []).append(extract)
        if changes:
            self._on_change.setdefault(model, []).append(extract)

    def attach(self, factory: sessionmaker[Session]) -> None:
        """Capture what the sessions of ``factory`` write."""
        event.listen(factory, "after_flush", self._after_flush)
        event.listen(factory, "after_commit", self._after_commit)
        event.listen(factory, "after_soft_rollback", self._after_soft_rollback)
        event.listen(factory, "after_transaction_end", self._after_transaction_end)

    def _after_flush(self, session: Session, _context: object) -> None:
        found: list[Notice] = []
        for row in session.new:
            for extract in self._on_new.get(type(row), ()):
                found.extend(extract(row))
        for row in session.dirty:
            extractors = self._on_change.get(type(row))
            if extractors and session.is_modified(row, include_collections=False):
                for extract in extractors:
                    found.extend(extract(row))
        if found and self._send_within is not None:
            self._send_within(session, found)
        elif found:
            transaction = session.get_nested_transaction() or session.get_transaction()
            pending = session.info.setdefault(_PENDING, [])
            pending.extend((transaction, notice) for notice in found)

    def _after_commit(self, session: Session) -> None:
        # Also called when a savepoint is released: only the outermost commit publishes.
        if session.get_nested_transaction() is not None:
            return
        pending: list[tuple[SessionTransaction, Notice]] = session.info.pop(_PENDING, [])
        if not pending:
            return
        seen: set[str] = set()
        notices = []
        for _transaction, notice in pending:
            key = notice.key()
            if key not in seen:
                seen.add(key)
                notices.append(notice)
        self._publish(notices)

    def _after_soft_rollback(self, session: Session, previous: SessionTransaction) -> None:
        pending: list[tuple[SessionTransaction, Notice]] = session.info.get(_PENDING, [])
        kept = [(t, n) for t, n in pending if not _within(t, previous)]
        session.info[_PENDING] = kept

    def _after_transaction_end(self, session: Session, transaction: SessionTransaction) -> None:
        # The outermost transaction ended: whatever was not committed by now never will be.
        if transaction.parent is None and not transaction.nested:
            session.info.pop(_PENDING, None)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False
