"""Database access for competitions."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from botarena.clock import utcnow
from botarena.competitions.models import PUBLIC, Competition
from botarena.games.registry import known_games
from botarena.ids import new_id


class CompetitionRepository:
    """Queries on competitions."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, competition_id: str) -> Competition | None:
        return self.session.get(Competition, competition_id)

    def by_ref(self, ref: str) -> Competition | None:
        """The competition whose id or slug (regardless of case) is ``ref``."""
        found = self.session.get(Competition, ref)
        if found is not None:
            return found
        return self.session.scalars(
            select(Competition).where(func.lower(Competition.slug) == ref.lower())
        ).one_or_none()

    def listed(self, member_of: set[str], everything: bool) -> list[Competition]:
        """The public competitions and the invite-only ones in ``member_of`` (all of them
        when ``everything``), default ones last, newest first."""
        query = select(Competition)
        if not everything:
            query = query.where(
                or_(Competition.visibility == PUBLIC, Competition.id.in_(member_of))
            )
        return list(
            self.session.scalars(
                query.order_by(Competition.is_default, Competition.created_at.desc())
            )
        )

    def announceable(self) -> list[Competition]:
        """Every competition with dates (not a default one) that is not announced frozen."""
        return list(
            self.session.scalars(
                select(Competition).where(
                    Competition.is_default.is_(False),
                    or_(
                        Competition.announced_phase.is_(None),
                        Competition.announced_phase != "frozen",
                    ),
                )
            )
        )

    def find_default(self, game: str) -> Competition | None:
        """The game's default competition if it was made (reads only)."""
        return self._default(game)

    def free_slug(self, wanted: str) -> str:
        """``wanted``, or ``wanted-2``… when a competition has it already."""
        return self._free_slug(wanted)

    def default_for(self, game: str) -> Competition:
        """The game's default competition, made on first use (always open, no limits).

        Two callers making it at once both end with the one the database kept.
        """
        found = self._default(game)
        if found is not None:
            return found
        info = known_games().get(game)
        now = utcnow()
        competition = Competition(
            id=new_id("cmp"),
            slug=self._free_slug(game),
            game=game,
            configuration="{}",
            title=info.title if info is not None else game,
            description="",
            is_default=True,
            visibility=PUBLIC,
            final_submissions_per_team=2,
            team_merges=True,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.session.begin_nested():
                self.session.add(competition)
        except IntegrityError:
            found = self._default(game)
            if found is None:
                raise
            return found
        return competition

    def _default(self, game: str) -> Competition | None:
        return self.session.scalars(
            select(Competition).where(Competition.game == game, Competition.is_default)
        ).one_or_none()

    def _free_slug(self, wanted: str) -> str:
        """``wanted`` unless a competition has it already, else ``wanted-2``, ``wanted-3``…"""
        taken = set(
            self.session.scalars(
                select(Competition.slug).where(Competition.slug.like(f"{wanted}%"))
            )
        )
        slug, number = wanted, 1
        while slug in taken:
            number += 1
            slug = f"{wanted}-{number}"
        return slug
