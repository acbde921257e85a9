"""Run by tests/support/helm.py in a process of its own: one Helm action through helm-sdkpy
(Helm 4's library), its answer as JSON on stdout.

A process of its own because the library is Go: its runtime reads the environment once, when
the library loads (so ``HELM_DRIVER=memory``, which keeps the release out of the cluster, must
be in the environment the process starts with), and it should not live inside the test
process, which forks sandboxes.

    python helm_run.py lint CHART
    python helm_run.py install CHART RELEASE NAMESPACE KUBECONFIG [adopt]  (values: JSON on stdin)

``adopt`` takes over objects that exist already without Helm's marks (as ``--take-ownership``).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any


def main(argv: list[str]) -> None:
    import helm_sdkpy

    action, chart = argv[0], argv[1]
    result: Any
    if action == "lint":
        # Lint needs no cluster; the configuration only wants a kubeconfig path.
        config = helm_sdkpy.Configuration(kubeconfig="/nonexistent")
        result = asyncio.run(helm_sdkpy.Lint(config).run(chart))
    elif action == "install":
        release, namespace, kubeconfig = argv[2:5]
        adopt = argv[5:] == ["adopt"]
        values = json.load(sys.stdin)
        config = helm_sdkpy.Configuration(namespace=namespace, kubeconfig=kubeconfig)
        install = helm_sdkpy.Install(config)
        result = asyncio.run(
            install.run(
                release,
                chart,
                values=values,
                create_namespace=True,
                wait=False,
                timeout=60,
                take_ownership=adopt,
            )
        )
    else:
        raise SystemExit(f"unknown action {action!r}")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
