"""Every model of every package, so that the metadata is complete (migrations, tests)."""

from __future__ import annotations

from botarena.accounts import models as _accounts_models
from botarena.agents import models as _agents_models
from botarena.audit import models as _audit_models
from botarena.builds import models as _builds_models
from botarena.competitions import models as _competitions_models
from botarena.db.base import Base
from botarena.ladder import models as _ladder_models
from botarena.matches import models as _matches_models
from botarena.notifications import models as _notifications_models
from botarena.ratings import models as _ratings_models
from botarena.teams import models as _teams_models
from botarena.tournaments import models as _tournaments_models

metadata = Base.metadata

__all__ = [
    "_accounts_models",
    "_agents_models",
    "_audit_models",
    "_builds_models",
    "_competitions_models",
    "_ladder_models",
    "_matches_models",
    "_notifications_models",
    "_ratings_models",
    "_teams_models",
    "_tournaments_models",
    "metadata",
]
