"""The egress of a build: the allow-list, and the proxy that is the build's only way out.

See :mod:`.policy` for what is admitted, :mod:`.allowlist` for where the list comes from,
and :mod:`.proxy` for the proxy the install sandbox reaches through a bound Unix socket.
"""

from botarena.endpoints import Endpoint, parse_allow_entry
from botarena.executor.installers.egress.allowlist import build_allow_list
from botarena.executor.installers.egress.policy import (
    EgressError,
    EgressPolicy,
    RefusedByPolicyError,
    never_reachable,
)
from botarena.executor.installers.egress.proxy import EgressProxy, ProxyLimits
from botarena.executor.installers.egress.starting import start_egress_proxy
from botarena.executor.installers.egress.upstream import Upstreams, upstreams_from

__all__ = [
    "EgressError",
    "EgressPolicy",
    "EgressProxy",
    "Endpoint",
    "ProxyLimits",
    "RefusedByPolicyError",
    "Upstreams",
    "build_allow_list",
    "never_reachable",
    "parse_allow_entry",
    "start_egress_proxy",
    "upstreams_from",
]
