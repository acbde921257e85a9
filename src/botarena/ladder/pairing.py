"""Who plays next on the ladder: a pure policy over the active submissions of one game.

1. The owner: matches are shared between owners, not agents, so the owner whose submissions
   played least recently is served first (ties broken at random).
2. The submission that needs a game most: a newly activated one still owed placement games
   first, then fewest recent games, highest sigma, longest idle, with some randomness.
3. The opponent: from a window reaching above and below it in the ranking until ``window``
   owners are covered on each side (so every submission can meet those above it), drawn
   with weights given by OpenSkill's match quality (the chance of a draw: close, uncertain
   pairings teach the most). Never itself, never another submission of the same agent; an
   owner's submissions share one owner's weight here too.

A game of more players (Hungry Geese: four) gets groups instead of pairs: the neediest
submission, then its opponents drawn the same way one after another, each of another agent,
seated in a random order (see :func:`choose_group`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from botarena.ratings.book import MODEL

_JITTER = 0.5  # in "recent games": how far chance may reorder the needs of submissions


@dataclass(frozen=True)
class Candidate:
    """An active submission as the ladder sees it."""

    submission_id: str
    agent_id: str
    owner_id: str  # who owns the agent: its team (fairness shares games out by it)
    mu: float
    sigma: float
    games: int  # ranked games in all
    recent_games: int  # ranked games in the recent window (what fairness counts)
    last_match_at: datetime | None

    @property
    def score(self) -> float:
        return self.mu - 3 * self.sigma


def choose_pair(
    candidates: Sequence[Candidate],
    rng: random.Random,
    *,
    window: int = 4,
    placement_games: int = 5,
) -> tuple[Candidate, Candidate] | None:
    """The next ranked pairing, or None when fewer than two agents can play."""
    if len({c.agent_id for c in candidates}) < 2:
        return None
    first = _neediest(candidates, rng, placement_games)
    opponent = _opponent(first, candidates, rng, window)
    if opponent is None:
        return None
    # Seats alternate by chance: the first mover's advantage is shared out.
    return (first, opponent) if rng.random() < 0.5 else (opponent, first)


def choose_group(
    candidates: Sequence[Candidate],
    rng: random.Random,
    *,
    size: int,
    window: int = 4,
    placement_games: int = 5,
) -> tuple[Candidate, ...] | None:
    """The next ranked group of up to ``size`` submissions of different agents (fewer when
    fewer agents can play), or None when fewer than two can. Two is :func:`choose_pair`."""
    if size <= 2:
        return choose_pair(candidates, rng, window=window, placement_games=placement_games)
    if len({c.agent_id for c in candidates}) < 2:
        return None
    first = _neediest(candidates, rng, placement_games)
    group = [first]
    while len(group) < size:
        taken = {c.agent_id for c in group}
        left = [c for c in candidates if c is first or c.agent_id not in taken]
        opponent = _opponent(first, left, rng, window)
        if opponent is None:
            break
        group.append(opponent)
    if len(group) < 2:
        return None
    rng.shuffle(group)  # seats by chance, as for pairs
    return tuple(group)


def _neediest(
    candidates: Sequence[Candidate], rng: random.Random, placement_games: int
) -> Candidate:
    placing = [c for c in candidates if c.games < placement_games]
    pool = placing or list(candidates)
    by_owner: dict[str, list[Candidate]] = {}
    for candidate in pool:
        by_owner.setdefault(candidate.owner_id, []).append(candidate)
    owner_load = {
        owner: sum(c.recent_games for c in candidates if c.owner_id == owner) for owner in by_owner
    }
    owner = min(by_owner, key=lambda o: (owner_load[o], rng.random()))
    return min(
        by_owner[owner],
        key=lambda c: (
            c.recent_games + rng.uniform(0, _JITTER),
            -c.sigma,
            c.last_match_at.timestamp() if c.last_match_at else 0.0,
        ),
    )


def _opponent(
    first: Candidate, candidates: Sequence[Candidate], rng: random.Random, window: int
) -> Candidate | None:
    ranked = sorted(candidates, key=lambda c: (-c.score, c.submission_id))
    place = ranked.index(first)
    above = _reach(reversed(ranked[:place]), first, window)
    below = _reach(ranked[place + 1 :], first, window)
    others = above + below
    if not others:
        return None
    mine = MODEL.rating(mu=first.mu, sigma=first.sigma)
    # Each owner's submissions share one owner's weight: an owner with many agents is not
    # drawn as an opponent more often than one with a single agent.
    per_owner: dict[str, int] = {}
    for candidate in others:
        per_owner[candidate.owner_id] = per_owner.get(candidate.owner_id, 0) + 1
    weights = [
        (MODEL.predict_draw([[mine], [MODEL.rating(mu=c.mu, sigma=c.sigma)]]) + 1e-6)
        / per_owner[c.owner_id]
        for c in others
    ]
    return rng.choices(others, weights=weights, k=1)[0]


def _reach(ordered: Iterable[Candidate], first: Candidate, window: int) -> list[Candidate]:
    """Candidates going away from ``first`` in rank until ``window`` owners are covered:
    an owner with many neighbouring agents does not fill the window alone."""
    reached: list[Candidate] = []
    owners: set[str] = set()
    for candidate in ordered:
        if candidate.agent_id == first.agent_id:
            continue
        if candidate.owner_id not in owners and len(owners) == window:
            break
        owners.add(candidate.owner_id)
        reached.append(candidate)
    return reached
