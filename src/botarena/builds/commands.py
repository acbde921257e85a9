"""What people can ask of a build: a rebuild (the agent's team or an admin) and a priority
(admin)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from botarena.accounts.models import User
from botarena.agents.models import Submission
from botarena.agents.service import in_agents_team, may_see_private
from botarena.agents.status import SubmissionStatus
from botarena.audit.actions import Action
from botarena.audit.context import ActionContext
from botarena.audit.service import AuditLog
from botarena.builds import generations
from botarena.errors import conflict, forbidden, not_found
from botarena.settings import Settings

MAX_PRIORITY = 1000


class BuildCommands:
    """Each method checks, writes and commits, or raises and writes nothing."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    def rebuild(self, user: User, submission_id: str, context: ActionContext) -> Submission:
        """Queue a finished submission for building again, as a fresh set of attempts with a
        fresh log (the earlier build's kept); an admin's rebuild of a submission of a team
        they are not in is audited."""
        submission = self._get(submission_id)
        owner_id = submission.agent.owner_id
        if not may_see_private(user, submission.agent):
            raise forbidden("Only the agent's team or an admin can rebuild its submissions")
        try:
            submission.move_to(
                SubmissionStatus.BUILDING, reason=f"rebuild requested by {user.username}"
            )
            # No worker holds it yet: the queue takes it like a pending build.
            submission.lease_owner = None
            submission.lease_until = None
            submission.not_before = None
            submission.attempts = 0
            submission.error_message = None
            # The stored copy of the log is the earlier build's: it is kept as build.N.log.
            submission.build_log = None
            if not in_agents_team(user, submission.agent):
                AuditLog(self.session).record(
                    context,
                    Action.SUBMISSION_REBUILT,
                    target_type="submission",
                    target_id=submission.id,
                    details={"agentId": submission.agent_id, "ownerId": owner_id},
                )
            # The rebuild's status row gets its id; the row stays locked until the commit.
            self.session.flush()
        except (StaleDataError, IntegrityError) as exc:  # a concurrent change came first
            self.session.rollback()
            raise conflict(
                "Submission was changed by another request", "Reload it and try again."
            ) from exc
        began = submission.status_events[-1].id
        rotation = generations.begin(self.settings, submission.id, began)
        try:
            self.session.commit()
        except BaseException:
            rotation.undo()
            raise
        return submission

    def set_priority(
        self, user: User, submission_id: str, priority: int, context: ActionContext
    ) -> Submission:
        """Move a queued build ahead (higher first) or back (audited)."""
        submission = self._get(submission_id)
        if not user.is_admin:
            raise forbidden("Only an admin can change build priorities")
        before = submission.priority
        submission.priority = priority
        AuditLog(self.session).record(
            context,
            Action.SUBMISSION_PRIORITY_CHANGED,
            target_type="submission",
            target_id=submission.id,
            details={"from": before, "to": priority},
        )
        self.session.commit()
        return submission

    def _get(self, submission_id: str) -> Submission:
        submission = self.session.get(Submission, submission_id)
        if submission is None:
            raise not_found("Submission not found")
        return submission
