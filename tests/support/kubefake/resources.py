"""The resource types the fake serves: where each lives, its kind, and what it supports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    """One resource type, as the discovery documents describe it."""

    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    status_subresource: bool = False
    # metadata.generation counts spec changes for these (pods have none before 1.33).
    generation: bool = False
    short_names: tuple[str, ...] = ()
    # A custom resource: no schema of kubernetes-validate's; the fake stores it as given.
    custom: bool = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        return self.api_version

    @property
    def qualified(self) -> str:
        """How error messages name the type: ``jobs.batch``, ``pods``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

RESOURCES: tuple[Resource, ...] = (
    Resource(
        "",
        "v1",
        "namespaces",
        "Namespace",
        namespaced=False,
        status_subresource=True,
        short_names=("ns",),
    ),
    Resource("", "v1", "pods", "Pod", status_subresource=True, short_names=("po",)),
    Resource("", "v1", "secrets", "Secret"),
    Resource("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    Resource("", "v1", "services", "Service", status_subresource=True, short_names=("svc",)),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    Resource("", "v1", "events", "Event", short_names=("ev",)),
    Resource("batch", "v1", "jobs", "Job", status_subresource=True, generation=True),
    Resource(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "NetworkPolicy",
        generation=True,
        short_names=("netpol",),
    ),
    Resource("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    # Stored and validated only (no controller acts on them): what a Helm chart installs.
    Resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", status_subresource=True),
    Resource("apps", "v1", "deployments", "Deployment", status_subresource=True, generation=True),
    Resource("apps", "v1", "statefulsets", "StatefulSet", status_subresource=True, generation=True),
    Resource(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        status_subresource=True,
        short_names=("hpa",),
    ),
    Resource("networking.k8s.io", "v1", "ingresses", "Ingress", status_subresource=True),
    # As if KEDA's and the Prometheus operator's CRDs were installed.
    Resource("keda.sh", "v1alpha1", "scaledobjects", "ScaledObject", custom=True),
    Resource("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor", custom=True),
)

BY_PATH: dict[tuple[str, str, str], Resource] = {
    (r.group, r.version, r.plural): r for r in RESOURCES
}
BY_KIND: dict[str, Resource] = {r.kind: r for r in RESOURCES}
NAMESPACES = BY_KIND["Namespace"]
PODS = BY_KIND["Pod"]
JOBS = BY_KIND["Job"]
