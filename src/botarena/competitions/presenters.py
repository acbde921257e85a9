"""A competition as the API shows it: its phase and next date computed now, its description
rendered, whether the viewer takes part."""

from __future__ import annotations

import json

from botarena.competitions.markdown import render
from botarena.competitions.models import Competition
from botarena.competitions.phases import aware, next_date, now, phase_of
from botarena.competitions.schemas import CompetitionCreated, CompetitionOut


def present(competition: Competition, is_member: bool) -> CompetitionOut:
    at = now()
    upcoming = next_date(competition, at)
    return CompetitionOut(
        id=competition.id,
        slug=competition.slug,
        game=competition.game,
        configuration=json.loads(competition.configuration or "{}"),
        title=competition.title,
        description=competition.description,
        description_html=render(competition.description),
        is_default=competition.is_default,
        visibility=competition.visibility,
        phase=phase_of(competition, at).value,
        next_date=upcoming[1] if upcoming else None,
        next_date_label=upcoming[0] if upcoming else None,
        opens_at=aware(competition.opens_at),
        deadline_at=aware(competition.deadline_at),
        final_ends_at=aware(competition.final_ends_at),
        final_started_at=aware(competition.final_started_at),
        final_rounds=competition.final_rounds,
        final_tournament_id=competition.final_tournament_id,
        frozen_at=aware(competition.frozen_at),
        daily_submission_limit=competition.daily_submission_limit,
        final_submissions_per_team=competition.final_submissions_per_team,
        max_team_size=competition.max_team_size,
        team_merges=competition.team_merges,
        is_member=is_member,
        created_at=competition.created_at,
    )


def present_created(
    competition: Competition, is_member: bool, join_code: str | None
) -> CompetitionCreated:
    shown = present(competition, is_member)
    return CompetitionCreated(**shown.model_dump(), join_code=join_code)
