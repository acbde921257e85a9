"""Response bodies of the ladder API."""

from __future__ import annotations

from botarena.api.schema import ApiModel


class LadderState(ApiModel):
    """Which ladders are paused: every game (``all``) or the games listed."""

    all_paused: bool
    paused_games: list[str]
