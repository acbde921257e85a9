"""Submissions as a given viewer may see them, for every routes module that answers one."""

from __future__ import annotations

from botarena.accounts.models import User
from botarena.agents.models import Submission
from botarena.agents.schemas import SubmissionOut
from botarena.agents.service import may_see_private


def present(submission: Submission, viewer: User | None) -> SubmissionOut:
    """A submission as ``viewer`` may see it: where its source lives is the owner's business."""
    shown = SubmissionOut.model_validate(submission)
    if may_see_private(viewer, submission.agent):
        return shown
    return shown.model_copy(update={"code_url": None, "ref": None})
