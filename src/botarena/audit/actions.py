"""The actions the audit log records: one name per kind of event, ``<subject>.<verb>``."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """What happened. Users and tokens come from accounts; the rest from the later stages."""

    USER_CREATED = "user.created"
    USER_MADE_ADMIN = "user.made_admin"
    USER_ADMIN_REMOVED = "user.admin_removed"
    USER_DISABLED = "user.disabled"
    USER_ENABLED = "user.enabled"
    TOKEN_CREATED = "token.created"  # noqa: S105 - an action's name
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 - an action's name
    LOGIN_LINK_CREATED = "login_link.created"
    LOGIN_LINK_USED = "login_link.used"
    USER_SIGNED_IN = "user.signed_in"
    USER_SIGN_IN_FAILED = "user.sign_in_failed"
    SUBMISSION_PRIORITY_CHANGED = "submission.priority_changed"
    SUBMISSION_REBUILT = "submission.rebuilt"
    LADDER_PAUSED = "ladder.paused"
    LADDER_RESUMED = "ladder.resumed"
    MATCH_CANCELLED = "match.cancelled"
    TOURNAMENT_CREATED = "tournament.created"
    TOURNAMENT_CANCELLED = "tournament.cancelled"
    RATINGS_RECOMPUTED = "ratings.recomputed"
    TEAM_CREATED = "team.created"
    TEAM_JOINED = "team.joined"
    TEAM_LEFT = "team.left"
    TEAM_MERGE_REQUESTED = "team.merge_requested"
    TEAM_MERGED = "team.merged"
    TEAM_DISBANDED = "team.disbanded"
    COMPETITION_CREATED = "competition.created"
    COMPETITION_UPDATED = "competition.updated"
    COMPETITION_FINAL_STARTED = "competition.final_started"
    COMPETITION_FROZEN = "competition.frozen"
