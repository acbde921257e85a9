"""Which limit of its sandbox stopped an agent, if one did: ``memory`` (the kernel killed a
process of it for its memory limit), ``processes`` (it lost after a fork was refused for its
process limit: a fork bomb ends on its clock, but the limit is what held it), ``time`` (it ran
out of clock), or None."""

from __future__ import annotations

from botarena.executor.agent_process import AgentProcess
from botarena.executor.outcomes import AgentOutcome, AgentStatus
from botarena.executor.sandbox.exits import ExitStatus


def killed_for(outcome: AgentOutcome, process: AgentProcess) -> str | None:
    exit_status = getattr(process, "exit_status", None)
    ended = exit_status() if callable(exit_status) else None
    if isinstance(ended, ExitStatus) and ended.out_of_memory:
        return "memory"
    if outcome.status is AgentStatus.DONE:
        return None
    if isinstance(ended, ExitStatus) and ended.process_limit_hit:
        return "processes"
    if outcome.status is AgentStatus.TIMEOUT:
        return "time"
    return None
