"""The ladder's pairing policy, simulated over many rounds with known skills."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta

from botarena.ladder.pairing import Candidate, choose_pair

T0 = datetime(2026, 1, 1)


def _candidates(spec: list[tuple[str, str, float, int]]) -> list[Candidate]:
    """(submission, owner, mu, games) → candidates of distinct agents."""
    return [
        Candidate(sid, f"agent-{sid}", owner, mu, 8.333 / (1 + games / 10), games, 0, None)
        for sid, owner, mu, games in spec
    ]


def _played(candidate: Candidate, at: datetime) -> Candidate:
    return Candidate(
        candidate.submission_id,
        candidate.agent_id,
        candidate.owner_id,
        candidate.mu,
        candidate.sigma,
        candidate.games + 1,
        candidate.recent_games + 1,
        at,
    )


def _simulate(pool: list[Candidate], rounds: int, seed: int = 1) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pairs = []
    for index in range(rounds):
        pair = choose_pair(pool, rng)
        assert pair is not None
        pairs.append((pair[0].submission_id, pair[1].submission_id))
        at = T0 + timedelta(minutes=index)
        played = {pair[0].submission_id, pair[1].submission_id}
        pool = [_played(c, at) if c.submission_id in played else c for c in pool]
    return pairs


def test_never_itself_nor_its_own_agent() -> None:
    pool = _candidates([(f"s{i}", f"o{i % 3}", 20 + i, 10) for i in range(8)])
    twin = Candidate("s-twin", pool[0].agent_id, "o0", 30, 2, 10, 0, None)
    for a, b in _simulate([*pool, twin], 300):
        assert a != b
        assert {a, b} != {"s0", "s-twin"}


def test_fewer_than_two_agents_make_no_pair() -> None:
    one = _candidates([("s1", "o1", 25, 0)])
    same_agent = [one[0], Candidate("s2", one[0].agent_id, "o1", 25, 8, 0, 0, None)]
    assert choose_pair(one, random.Random(0)) is None
    assert choose_pair(same_agent, random.Random(0)) is None


def test_nobody_starves() -> None:
    pool = _candidates([(f"s{i}", f"o{i}", 10 + 3 * i, 20) for i in range(10)])
    pairs = _simulate(pool, 200)
    for start in range(200 - 20):  # every submission plays within any 20 rounds
        seen = {s for pair in pairs[start : start + 20] for s in pair}
        assert seen == {f"s{i}" for i in range(10)}, (start, seen)


def test_a_new_submission_gets_placement_games_first() -> None:
    pool = _candidates([(f"s{i}", f"o{i}", 25, 40) for i in range(8)])
    newcomer = _candidates([("new", "o-new", 25, 0)])
    pairs = _simulate([*pool, *newcomer], 5)
    assert all("new" in pair for pair in pairs)


def test_matches_are_shared_between_owners_not_agents() -> None:
    many = [(f"m{i}", "prolific", 25.0, 20) for i in range(6)]
    pool = _candidates([*many, ("solo", "solo", 25.0, 20), ("duo1", "duo", 25.0, 20)])
    pairs = _simulate(pool, 300, seed=3)
    per_owner = Counter()
    owners = {c.submission_id: c.owner_id for c in pool}
    for pair in pairs:
        for sid in pair:
            per_owner[owners[sid]] += 1
    # The owner of six agents does not get six times the games of the others.
    assert per_owner["prolific"] < 2 * per_owner["solo"], per_owner


def test_the_bottom_can_meet_those_above_it() -> None:
    pool = _candidates([(f"s{i}", f"o{i}", 10 + 2 * i, 30) for i in range(12)])
    pairs = _simulate(pool, 400, seed=4)
    bottom_opponents = {b if a == "s0" else a for a, b in pairs if "s0" in (a, b)}
    assert bottom_opponents >= {"s1", "s2", "s3", "s4"}
