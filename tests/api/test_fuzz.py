"""The API fuzzed from its own OpenAPI description (schemathesis), as a participant and as an
admin, on the real application: no answer is a 5xx, and every answer matches what the
description documents (its status code, content type, headers and body schema).

Random identifiers only ever reach "not found", so the run first makes real things (agents
with ready submissions, a match, a tournament, a spare token) and half of the generated
requests name one of them instead: the fuzzing reaches the rules behind the lookups. Each
operation is fuzzed in turn and every failure is collected, so that one run shows them all;
examples are derandomized, so a failure in CI is the same one here.

One check is left out for the operations of ``CHECKED_BEYOND_THE_SCHEMA``: that a request
the description calls valid is accepted. An archive upload and a code URL are checked far
beyond what a schema can say (the archive's members, the URL's host and addresses), and so are
a competition's dates and phase; their refusals are part of the API's contract (400 for a bad
archive or what a competition's phase no longer allows, 422 for a refused URL), documented in
docs/api.md.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance

from botarena.db.engine import SessionFactory

from support.accounts import Account, MakeUser
from support.competitors import pretend_built

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FUZZING = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Refused beyond what a schema can say, by contract (see the docstring).
CHECKED_BEYOND_THE_SCHEMA = {
    "POST /api/v1/agents/{agent_id}/submissions",
    "POST /api/v1/submissions",
    # A webhook's URL must resolve to public addresses; an e-mail address must look like one.
    "POST /api/v1/notifications/webhooks",
    "PATCH /api/v1/notifications/webhooks/{webhook_id}",
    "PUT /api/v1/notifications/email",
    # A competition's dates must follow each other and its configuration is its game's to
    # check; what the phase no longer allows is refused (400), and so is joining a frozen one
    # or a selection naming what is not the team's own built submissions (422).
    "POST /api/v1/competitions",
    "PATCH /api/v1/competitions/{ref}",
    "POST /api/v1/competitions/{ref}/join",
    "PUT /api/v1/competitions/{ref}/selection",
    "POST /api/v1/competitions/{ref}/freeze",
    # An agent, a submission or a match of a competition that is not open (one the fuzzing
    # made with dates long past, say) is refused (400, naming the date); so is a merge the
    # competition does not allow or a merge of a team with itself.
    "POST /api/v1/agents",
    "POST /api/v1/matches",
    "POST /api/v1/teams/{team_id}/merge",
    "POST /api/v1/teams/{team_id}/merge-requests/{from_team_id}",
}
# A real submission's event stream lasts until its build ends, and nothing builds here.
RANDOM_IDS_ONLY = {"GET /api/v1/submissions/{submission_id}/events"}

Known = dict[str, list[str]]


@pytest.fixture
def admin_account(make_user: MakeUser) -> Account:
    return make_user("administrator", admin=True, password="fuzzing-pass")


@pytest.fixture
def known(
    client: TestClient, session_factory: SessionFactory, admin_account: Account, make_user: MakeUser
) -> tuple[Account, Known]:
    """A participant and the ids of real things: theirs, someone else's, and the admin's."""
    participant = make_user("participant", password="fuzzing-pass")
    other = make_user("other", password="fuzzing-pass")
    agents, submissions = [], []
    for account, name in ((participant, "mine"), (participant, "mine-too"), (other, "theirs")):
        agent, sub = pretend_built(client, session_factory, account, name)
        agents.append(agent)
        submissions.append(sub)
    match = client.post(
        "/api/v1/matches",
        json={"agent1Id": agents[0], "agent2Id": agents[2]},
        headers=participant.headers,
    )
    assert match.status_code == 201, match.text
    tournament = client.post(
        "/api/v1/tournaments",
        json={"game": "connectx", "format": "round_robin"},
        headers=admin_account.headers,
    )
    assert tournament.status_code == 201, tournament.text
    tokens = [
        client.post("/api/v1/me/tokens", json={}, headers=account.headers).json()["id"]
        for account in (participant, admin_account)
    ]
    return participant, {
        "agent_id": agents,
        "submission_id": submissions,
        "match_id": [match.json()["id"]],
        "tournament_id": [tournament.json()["id"]],
        "token_id": tokens,
    }


def _excluded(label: str) -> list[Any]:
    return [positive_data_acceptance] if label in CHECKED_BEYOND_THE_SCHEMA else []


def _cases(operation: Any, ids: Known) -> st.SearchStrategy[schemathesis.Case]:
    """The operation's generated cases, half of them naming real things in their path."""
    generated = operation.as_strategy()
    names = [p for p in ids if "{" + p + "}" in operation.path]
    if not names or operation.label in RANDOM_IDS_ONLY:
        return generated  # type: ignore[no-any-return]

    def named(case: schemathesis.Case, picks: dict[str, str]) -> schemathesis.Case:
        case.path_parameters = {**(case.path_parameters or {}), **picks}
        return case

    picks = st.fixed_dictionaries({name: st.sampled_from(ids[name]) for name in names})
    return st.one_of(generated, st.builds(named, generated, picks))


def _fuzz(operation: Any, ids: Known, caller: Account) -> None:
    excluded = _excluded(operation.label)

    @FUZZING
    @given(case=_cases(operation, ids))
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=caller.headers, excluded_checks=excluded)

    fuzz()


@pytest.mark.parametrize("role", ["participant", "admin"])
def test_every_answer_is_documented_and_none_is_a_server_error(
    client: TestClient, known: tuple[Account, Known], admin_account: Account, role: str
) -> None:
    participant, ids = known
    caller = admin_account if role == "admin" else participant
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    failures: list[str] = []
    labels: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        try:
            _fuzz(operation, ids, caller)
        except (AssertionError, BaseExceptionGroup) as exc:  # collected for one report
            failures.append(f"{operation.label}: {exc}")
    assert len(labels) >= 30, f"only {len(labels)} operations were described: {labels}"
    assert not failures, "\n\n".join(failures)
