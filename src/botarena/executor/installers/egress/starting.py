"""Starting one build's egress proxy with the allow-list and upstream proxy as configured now."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from botarena.executor.installers.egress.allowlist import build_allow_list
from botarena.executor.installers.egress.policy import EgressPolicy
from botarena.executor.installers.egress.proxy import EgressProxy, ProxyLimits
from botarena.executor.installers.egress.upstream import upstreams_from


def start_egress_proxy(
    allow: Sequence[str],
    on_output: Callable[[str], None] | None,
    *,
    name: str,
    limits: ProxyLimits | None = None,
    listen: tuple[str, int] | None = None,
) -> EgressProxy:
    """A started proxy admitting pip's configured indexes plus ``allow`` (the operator's
    ``BOTARENA_BUILD_EGRESS_ALLOW``), chaining to this host's proxy if it has one. pip's
    configuration is read at each build, so a change applies without a restart.

    Raises :class:`ValueError` for a bad entry or upstream proxy, :class:`OSError` when it
    cannot listen.
    """
    policy = EgressPolicy(build_allow_list(os.environ, allow))
    proxy = EgressProxy(
        policy,
        upstreams=upstreams_from(os.environ),
        on_output=on_output,
        limits=limits,
        name=name,
        listen=listen,
    )
    return proxy.start()
