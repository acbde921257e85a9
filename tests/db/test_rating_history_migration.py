"""Revision 0010 on a database with matches already played: it fills the rating history the
way a recompute writes it (ratings untouched), and its downgrade drops the table."""

from __future__ import annotations

import random

from sqlalchemy import inspect

from botarena.db import migrate
from botarena.db.engine import build_engine
from botarena.ratings.book import recompute
from botarena.settings import Settings

from support.accounts import Account
from support.court import Court


def test_the_migration_fills_history_for_old_matches(
    court: Court, settings: Settings, alice: Account, bob: Account
) -> None:
    agents = [court.ready(who, f"old-{i}")[0] for i, who in enumerate((alice, bob, bob))]
    chance = random.Random(3)
    for index in range(12):
        a, b = chance.sample(agents, 2)
        court.play((a, b), chance.choice([0, 1, None]))
        if index == 5:
            court.new_version(bob, agents[1])
    court.play((agents[0], agents[2]), 0, ranked=False)
    court.play((agents[0], agents[2]), None, fails=True)
    ratings = court.ratings()
    with court.factory() as session:
        recompute(session)
        session.commit()
    recomputed = court.history()
    assert len(recomputed) == 24 and court.ratings() == ratings

    engine = build_engine(settings.resolved_database_url)
    try:
        migrate.downgrade(engine, "0009")
        assert "rating_changes" not in inspect(engine).get_table_names()
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        migrate.upgrade(engine)  # the shared PostgreSQL template stays at head whatever happens
        engine.dispose()
    assert court.history() == recomputed  # to the last bit
    assert court.ratings() == ratings
