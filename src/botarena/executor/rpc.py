"""gRPC as botarena uses it: import ``grpc`` from here, never directly.

The executor forks only to start programs (agents' sandboxes, pip, git), and never uses gRPC in
a forked child. gRPC's fork support (handlers run around every ``fork()``) is then of no use,
and it crashes children now and then (SIGSEGV between fork and exec) while gRPC threads are
busy. It is read once, when ``grpc`` is first imported, which is why this module sets it before
importing it; an operator's own setting is left alone. The standard health service's modules
(which import ``grpc`` too) come from here for the same reason.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc  # imports grpc: after the above

__all__ = ["grpc", "health", "health_pb2", "health_pb2_grpc"]
