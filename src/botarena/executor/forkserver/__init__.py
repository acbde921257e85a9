"""Fork servers ("zygotes"): sandboxed Python agents started in a millisecond, not tens.

Starting a sandbox and an interpreter costs far more CPU than a short match. A zygote is an
agent's sandbox with the interpreter and the agent shim loaded, never the agent's code; each
match-agent is a new process forked from it, moved into a cgroup of its own, and killed with
everything it started when the match ends. No process ever plays two matches.
"""

from botarena.executor.forkserver.forked import ForkedAgent
from botarena.executor.forkserver.pool import ZygotePool
from botarena.executor.forkserver.zygote import Zygote

__all__ = ["ForkedAgent", "Zygote", "ZygotePool"]
