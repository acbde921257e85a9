"""The Helm chart deploy/helm/botarena: linted and rendered offline with Helm 4's own engine
(helm-sdkpy), installed on the fake API server (which validates every object strictly against
the 1.31 schemas as it takes it), each object validated again against the 1.31 and the newest
bundled schemas, and its security fields checked one by one."""

from __future__ import annotations

import base64
import copy
import shutil
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from botarena.builds.kubernetes.manifests import build_namespace, match_namespace
from botarena.executor.artifacts import ArtifactPolicy
from botarena.executor.client import ExecutorClient
from botarena.executor.credentials import DISPATCHER, CertificateAuthority, executor_identity
from botarena.executor.grpc_service import ArtifactRunner, ExecutorServicer, serve
from botarena.settings import Settings

from support import helm
from support.kubefake import start_fake_kubernetes

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "botarena"
SCHEMAS = ("1.31", kubernetes_validate.utils.latest_version())
RELEASE, NAMESPACE = "arena", "botarena"
FULL = f"{RELEASE}-botarena"
# Kinds of CRDs (KEDA, the Prometheus operator): no schema of kubernetes-validate's.
CUSTOM_KINDS = {"ScaledObject", "ServiceMonitor"}
UID = 10001

EXTERNAL = {
    "postgresql": {"enabled": False},
    "database": {"existingSecret": "botarena-database", "existingSecretKey": "url"},
    "ingress": {
        "enabled": True,
        "className": "nginx",
        "hosts": [{"host": "arena.example.org", "paths": [{"path": "/", "pathType": "Prefix"}]}],
        "tls": [{"secretName": "arena-tls", "hosts": ["arena.example.org"]}],
    },
    "executor": {
        "keda": {"enabled": True, "serverAddress": "http://prometheus.monitoring:9090"},
    },
    "metrics": {"serviceMonitor": {"enabled": True}},
    "worker": {"enabled": True},
    "server": {"replicas": 3, "workers": 1},
    "persistence": {"accessModes": ["ReadWriteMany"]},
    "kubernetes": {
        "registry": "registry.example.org/botarena",
        "registrySecret": {"create": True, "dockerConfigJson": '{"auths": {}}'},
        "runtimeClass": "gvisor",
    },
    "networkPolicy": {
        "builds": {
            "registry": [{"cidr": "203.0.113.10/32", "ports": [443, 5000]}],
            "gitHosts": [{"cidr": "198.51.100.0/24"}],
            "packageIndex": [{"cidr": "192.0.2.0/24", "ports": [443]}],
        }
    },
}
SCENARIOS: dict[str, dict[str, Any]] = {
    "default": {},
    "external": EXTERNAL,
    "embedded": {"executor": {"enabled": False}, "kubernetes": {"createNamespaces": False}},
}


def render(values: dict[str, Any]) -> helm.Release:
    """Install with ``values`` on a fresh fake API server; with ``createNamespaces`` false,
    the builds' and matches' namespaces are made first, as an operator would."""
    fake = start_fake_kubernetes()
    try:
        if not values.get("kubernetes", {}).get("createNamespaces", True):
            make_namespaces(fake.kubeconfig, "botarena-builds", "botarena-matches")
        return helm.install(CHART, fake.kubeconfig, values, release=RELEASE, namespace=NAMESPACE)
    finally:
        fake.stop()


def make_namespaces(kubeconfig: Path, *names: str) -> None:
    from kubernetes import client, config

    api = config.new_client_from_config(str(kubeconfig))
    try:
        for name in names:
            client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    finally:
        api.close()


@pytest.fixture(scope="module")
def releases() -> dict[str, helm.Release]:
    return {name: render(values) for name, values in SCENARIOS.items()}


@pytest.fixture(params=sorted(SCENARIOS))
def release(request: pytest.FixtureRequest, releases: dict[str, helm.Release]) -> helm.Release:
    return releases[request.param]


def pod_specs(release: helm.Release) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, pod spec) of every workload the chart renders."""
    for doc in release.everything:
        if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {
        entry["name"]: entry.get("value", entry.get("valueFrom"))
        for entry in container.get("env", [])
    }


# -- lint -------------------------------------------------------------------------------------


def test_the_chart_lints_clean() -> None:
    result = helm.lint(CHART)
    assert result["Errors"] is None
    # Severity 1 is information (Helm recommends an icon); 2 a warning, 3 an error.
    assert max(message["Severity"] for message in result["Messages"]) <= 1


def test_lint_finds_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "botarena"
    shutil.copytree(CHART, broken)
    (broken / "templates" / "broken.yaml").write_text("{{ .Values.nothing.here }}\n")
    result = helm.lint(broken)
    assert result["Errors"], result
    assert max(message["Severity"] for message in result["Messages"]) == 3


# -- every object valid ------------------------------------------------------------------------


@pytest.mark.parametrize("version", SCHEMAS)
def test_every_rendered_object_is_valid_in_strict_mode(release: helm.Release, version: str) -> None:
    assert release.manifests
    for doc in release.everything:
        if doc["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(doc, version, strict=True)


def test_a_field_the_schema_lacks_is_refused() -> None:
    """The validation above can fail: an unknown field of a rendered Deployment is caught."""
    deployment = copy.deepcopy(render({"migrations": {"enabled": False}}).one("Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readOnlyRootFs"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.31", strict=True)


# -- security ----------------------------------------------------------------------------------


def test_every_container_is_confined(release: helm.Release) -> None:
    for name, spec in pod_specs(release):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["enableServiceLinks"] is False, name
        for container in spec.get("initContainers", []) + spec["containers"]:
            context = container["securityContext"]
            where = f"{name}/{container['name']}"
            assert context["runAsNonRoot"] is True, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["privileged"] is False, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert container["resources"]["limits"]["memory"], where
            if container["image"].startswith("ghcr.io/botarena/botarena"):
                assert context["runAsUser"] == UID and pod["runAsUser"] == UID, where


def test_only_the_pods_that_call_the_api_get_a_token(releases: dict[str, helm.Release]) -> None:
    def tokens(release: helm.Release) -> dict[str, bool]:
        return {name: spec["automountServiceAccountToken"] for name, spec in pod_specs(release)}

    assert tokens(releases["default"]) == {
        f"{FULL}-server": True,  # builds (kubernetes backend) run in the server
        f"{FULL}-executor": True,  # match Jobs
        f"{FULL}-postgresql": False,
        f"{FULL}-migrate": False,
    }
    assert tokens(releases["external"]) == {
        f"{FULL}-server": False,  # HTTP only: the worker runs the builds
        f"{FULL}-worker": True,
        f"{FULL}-executor": True,
        f"{FULL}-migrate": False,
    }
    for account in releases["default"].find("ServiceAccount"):
        assert account["automountServiceAccountToken"] is False


def test_the_roles_allow_exactly_what_builds_and_matches_need(release: helm.Release) -> None:
    read = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    jobs = {
        "apiGroups": ["batch"],
        "resources": ["jobs"],
        "verbs": ["create", "delete", "get", "list", "patch", "watch"],
    }
    logs = {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}
    attach = {"apiGroups": [""], "resources": ["pods/attach"], "verbs": ["create", "get"]}
    builds = release.one("Role", f"{FULL}-builds")
    matches = release.one("Role", f"{FULL}-matches")
    assert builds["metadata"]["namespace"] == "botarena-builds"
    assert builds["rules"] == [jobs, read, logs, attach]
    # The match runner polls its Job and pod, and leaves the NetworkPolicy to the chart.
    assert matches["metadata"]["namespace"] == "botarena-matches"
    assert matches["rules"] == [
        {
            "apiGroups": ["batch"],
            "resources": ["jobs"],
            "verbs": ["create", "delete", "get", "list"],
        },
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
        logs,
    ]
    assert not release.find("ClusterRole") and not release.find("ClusterRoleBinding")
    assert {doc["kind"] for doc in release.everything} >= {"Role", "RoleBinding"}
    bindings = {doc["metadata"]["name"]: doc for doc in release.find("RoleBinding")}
    executors = bool(release.find("StatefulSet", f"{FULL}-executor"))
    expected = {
        f"{FULL}-builds": f"{FULL}-server",
        f"{FULL}-matches": f"{FULL}-executor" if executors else f"{FULL}-server",
    }
    for name, account in expected.items():
        binding = bindings[name]
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": name,
        }
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}
        ]


def test_match_pods_get_no_network_and_builds_only_dns_and_what_is_listed(
    releases: dict[str, helm.Release],
) -> None:
    release = releases["external"]
    matches = release.one("NetworkPolicy", f"{FULL}-matches-deny-all")
    assert matches["metadata"]["namespace"] == "botarena-matches"
    assert matches["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    builds = release.one("NetworkPolicy", f"{FULL}-builds-egress")
    assert builds["metadata"]["namespace"] == "botarena-builds"
    spec = builds["spec"]
    assert spec["podSelector"] == {} and spec["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in spec
    dns, *hosts = spec["egress"]
    assert dns == {
        "to": [
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                },
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    assert hosts == [
        {
            "to": [{"ipBlock": {"cidr": "203.0.113.10/32"}}],
            "ports": [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 5000}],
        },
        {
            "to": [{"ipBlock": {"cidr": "198.51.100.0/24"}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        },
        {
            "to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        },
    ]
    # Nothing listed: DNS alone.
    default = releases["default"].one("NetworkPolicy", f"{FULL}-builds-egress")
    assert default["spec"]["egress"] == [dns]


def test_the_namespaces_carry_the_pod_security_levels_of_the_build_mode(
    releases: dict[str, helm.Release],
) -> None:
    namespaces = {doc["metadata"]["name"]: doc for doc in releases["default"].find("Namespace")}
    assert set(namespaces) == {"botarena-builds", "botarena-matches"}
    for made in (build_namespace("botarena-builds"), match_namespace("botarena-matches")):
        labels = namespaces[made["metadata"]["name"]]["metadata"]["labels"]
        assert labels.items() >= made["metadata"]["labels"].items()
    assert (
        namespaces["botarena-builds"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        == "baseline"
    )
    assert (
        namespaces["botarena-matches"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        == "restricted"
    )
    assert not releases["embedded"].find("Namespace")


# -- probes and metrics ------------------------------------------------------------------------


def test_servers_and_executors_are_probed_and_scraped(releases: dict[str, helm.Release]) -> None:
    release = releases["external"]
    for name in (f"{FULL}-server", f"{FULL}-worker"):
        template = release.one("Deployment", name)["spec"]["template"]
        [container] = template["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert (annotations["prometheus.io/port"], annotations["prometheus.io/path"]) == (
            "8000",
            "/metrics",
        )
    executor = release.one("StatefulSet", f"{FULL}-executor")["spec"]["template"]
    [container] = executor["spec"]["containers"]
    assert container["args"] == [
        "executor",
        "--listen",
        "0.0.0.0:50051",
        "--http-listen",
        "0.0.0.0:9464",
        "--capacity",
        "8",
    ]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert executor["metadata"]["annotations"]["prometheus.io/port"] == "9464"
    monitors = {doc["metadata"]["name"]: doc["spec"] for doc in release.find("ServiceMonitor")}
    assert monitors[f"{FULL}-server"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "30s"}
    ]
    assert monitors[f"{FULL}-executor"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "30s"}
    ]
    assert not releases["default"].find("ServiceMonitor")


# -- what runs where ---------------------------------------------------------------------------


def settings_from(release: helm.Release, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a botarena process of the release reads from the chart's ConfigMap."""
    data = release.one("ConfigMap", FULL)["data"]
    backends = typing.get_args(Settings.model_fields["build_backend"].annotation)
    for name, value in data.items():
        if name == "BOTARENA_BUILD_BACKEND" and value not in backends:
            continue  # the kubernetes backend is another part of issue #15, not here yet
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_botarena_accepts_the_configmap_and_dials_every_executor_the_autoscaler_may_start(
    releases: dict[str, helm.Release], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = releases["default"].one("ConfigMap", FULL)["data"]
    assert data["BOTARENA_BUILD_BACKEND"] == "kubernetes"
    assert data["BOTARENA_MATCH_RUNNER"] == "kubernetes"
    assert data["BOTARENA_K8S_REFEREE_IMAGE"] == "ghcr.io/botarena/botarena:0.1.0"
    settings = settings_from(releases["default"], monkeypatch)
    assert settings.k8s_build_namespace == "botarena-builds"
    assert settings.k8s_match_namespace == "botarena-matches"
    # The HorizontalPodAutoscaler's maximum (4): a stable name per possible executor pod.
    assert settings.executors == tuple(
        f"{FULL}-executor-{index}.{FULL}-executor.{NAMESPACE}.svc:50051" for index in range(4)
    )
    assert settings.executor_capacity == 8
    external = settings_from(releases["external"], monkeypatch)
    assert len(external.executors) == 8  # KEDA's maximum
    assert external.k8s_registry == "registry.example.org/botarena"
    assert external.k8s_runtime_class == "gvisor"
    assert "BOTARENA_EXECUTORS" not in releases["embedded"].one("ConfigMap", FULL)["data"]
    headless = releases["default"].one("Service", f"{FULL}-executor")
    assert headless["spec"]["clusterIP"] == "None"


def test_the_worker_runs_the_background_services_and_the_servers_serve_http_only(
    releases: dict[str, helm.Release],
) -> None:
    off = {
        "BOTARENA_BUILDS_ENABLED": "false",
        "BOTARENA_MATCHES_ENABLED": "false",
        "BOTARENA_LADDER_ENABLED": "false",
    }
    external = releases["external"]
    server = external.one("Deployment", f"{FULL}-server")
    worker = external.one("Deployment", f"{FULL}-worker")
    assert server["spec"]["replicas"] == 3 and worker["spec"]["replicas"] == 1
    assert worker["spec"]["strategy"] == {"type": "Recreate"}
    [serving] = server["spec"]["template"]["spec"]["containers"]
    [working] = worker["spec"]["template"]["spec"]["containers"]
    assert env_of(serving).items() >= off.items()
    assert not set(off) & set(env_of(working))
    assert "--workers" in serving["args"]
    # The dispatcher holds the platform's authority: a writable copy of the Secret's.
    [authority] = worker["spec"]["template"]["spec"]["initContainers"]
    assert authority["name"] == "authority"
    assert env_of(working)["BOTARENA_TLS_DIR"] == "/var/run/botarena/run/pki"
    assert "initContainers" not in server["spec"]["template"]["spec"]
    # The default: one server pod running everything, its data volume released before the
    # next one starts.
    default = releases["default"].one("Deployment", f"{FULL}-server")
    assert default["spec"]["strategy"] == {"type": "Recreate"}
    [alone] = default["spec"]["template"]["spec"]["containers"]
    assert not set(off) & set(env_of(alone))


def test_the_database_is_external_or_the_charts_statefulset(
    releases: dict[str, helm.Release],
) -> None:
    default = releases["default"]
    postgres = default.one("StatefulSet", f"{FULL}-postgresql")
    [container] = postgres["spec"]["template"]["spec"]["containers"]
    assert container["image"].startswith("docker.io/library/postgres:")
    secret = default.one("Secret", f"{FULL}-postgresql")["data"]
    url = base64.b64decode(secret["database-url"]).decode()
    password = base64.b64decode(secret["password"]).decode()
    assert url == f"postgresql+psycopg://botarena:{password}@{FULL}-postgresql:5432/botarena"
    assert len(password) == 32
    [server] = default.one("Deployment", f"{FULL}-server")["spec"]["template"]["spec"]["containers"]
    assert env_of(server)["BOTARENA_DATABASE_URL"] == {
        "secretKeyRef": {"name": f"{FULL}-postgresql", "key": "database-url"}
    }
    # The migrations wait for an upgrade: on the first install the database does not exist
    # before the hooks, and botarena serve migrates at its start.
    migrate = default.one("Job", f"{FULL}-migrate")
    assert migrate["metadata"]["annotations"]["helm.sh/hook"] == "pre-upgrade"

    external = releases["external"]
    assert not external.find("StatefulSet", f"{FULL}-postgresql")
    migrate = external.one("Job", f"{FULL}-migrate")
    assert migrate["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert migrate["metadata"]["annotations"]["helm.sh/hook-delete-policy"] == (
        "before-hook-creation,hook-succeeded"
    )
    [job] = migrate["spec"]["template"]["spec"]["containers"]
    assert job["args"] == ["migrate"]
    assert env_of(job)["BOTARENA_DATABASE_URL"] == {
        "secretKeyRef": {"name": "botarena-database", "key": "url"}
    }
    # Only the database URL: nothing the hook needs is made by the release it runs before.
    assert "envFrom" not in job


def test_ingress_and_autoscaling_follow_the_values(releases: dict[str, helm.Release]) -> None:
    default, external = releases["default"], releases["external"]
    assert not default.find("Ingress") and not default.find("ScaledObject")
    hpa = default.one("HorizontalPodAutoscaler", f"{FULL}-executor")["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": f"{FULL}-executor",
    }
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 4)
    assert "replicas" not in default.one("StatefulSet", f"{FULL}-executor")["spec"]

    ingress = external.one("Ingress", f"{FULL}-server")["spec"]
    assert ingress["ingressClassName"] == "nginx"
    [rule] = ingress["rules"]
    assert rule["host"] == "arena.example.org"
    assert rule["http"]["paths"][0]["backend"] == {
        "service": {"name": f"{FULL}-server", "port": {"name": "http"}}
    }
    assert not external.find("HorizontalPodAutoscaler")
    keda = external.one("ScaledObject", f"{FULL}-executor")
    assert keda["apiVersion"] == "keda.sh/v1alpha1"
    assert keda["spec"]["scaleTargetRef"]["kind"] == "StatefulSet"
    assert keda["spec"]["triggers"] == [
        {
            "type": "prometheus",
            "metadata": {
                "serverAddress": "http://prometheus.monitoring:9090",
                "query": "max(botarena_match_queue_depth)",
                "threshold": "8",
            },
        }
    ]
    registry = external.one("Secret", "botarena-registry")
    assert registry["type"] == "kubernetes.io/dockerconfigjson"
    assert registry["metadata"]["namespace"] == "botarena-builds"


@pytest.mark.parametrize(
    ("values", "refusal"),
    [
        ({"server": {"replicas": 2, "workers": 1}}, "ReadWriteMany"),
        ({"worker": {"enabled": True}}, "ReadWriteMany"),
        (
            {"server": {"replicas": 2}, "persistence": {"accessModes": ["ReadWriteMany"]}},
            "server.workers 1",
        ),
        ({"postgresql": {"enabled": False}}, "database.existingSecret is required"),
        ({"executor": {"keda": {"enabled": True}}}, "executor.keda.serverAddress is required"),
        ({"tls": {"generate": False}}, "executor.tls.existingSecret is required"),
    ],
)
def test_values_that_cannot_work_are_refused_with_the_reason(
    values: dict[str, Any], refusal: str
) -> None:
    with pytest.raises(helm.HelmError, match=refusal):
        render(values)


# -- the executors' certificates ---------------------------------------------------------------


def test_the_generated_certificates_let_the_dispatcher_reach_an_executor(
    releases: dict[str, helm.Release], tmp_path: Path
) -> None:
    """The chart's authority is one botarena serve opens (ECDSA, as it makes its own) and
    the executors' bundle one botarena executor reads; a dispatcher certificate issued by the
    first is answered by an executor serving the second, over mutual TLS."""
    release = releases["default"]
    pki, bundle = tmp_path / "pki", tmp_path / "bundle"
    for folder, secret in ((pki, f"{FULL}-ca"), (bundle, f"{FULL}-executor-tls")):
        folder.mkdir(mode=0o700)
        for key, value in release.one("Secret", secret)["data"].items():
            (folder / key).write_bytes(base64.b64decode(value))
    (pki / "ca.key").chmod(0o600)
    assert sorted(p.name for p in bundle.iterdir()) == [
        "botarena-executor.key",
        "botarena-executor.pem",
        "ca.pem",
    ]
    authority = CertificateAuthority.open_or_create(pki)
    identity = executor_identity(bundle)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    runner = ArtifactRunner(settings)
    service = ExecutorServicer(runner, ArtifactPolicy.from_settings(settings))
    server, port = serve(service, "127.0.0.1:0", identity)
    client = ExecutorClient(f"127.0.0.1:{port}", authority.issue(DISPATCHER))
    try:
        assert client.health().capacity == service.capacity
    finally:
        client.close()
        server.stop(grace=0).wait()
        service.close()
        runner.close()


# -- the README --------------------------------------------------------------------------------


def leaves(values: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value and path not in DOCUMENTED_AS_A_WHOLE:
            yield from leaves(value, f"{path}.")
        else:
            yield path


# Maps of free keys (settings, resources, probe timings, selectors): documented as one value.
DOCUMENTED_AS_A_WHOLE = {
    "config",
    "postgresql.resources",
    "server.resources",
    "server.probes.liveness",
    "server.probes.readiness",
    "server.probes.startup",
    "worker.resources",
    "executor.resources",
    "migrations.resources",
    "networkPolicy.dns.namespaceSelector",
    "networkPolicy.dns.podSelector",
}


def test_the_readme_documents_every_value() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    readme = (CHART / "README.md").read_text()
    missing = [path for path in leaves(values) if f"| `{path}` |" not in readme]
    assert missing == []


def test_secrets_made_once_are_kept(tmp_path: Path) -> None:
    """What an upgrade finds (Helm's lookup): the authority, the cookie key and the database
    password already in the namespace are kept, and a missing executor bundle is signed by the
    authority found."""
    from kubernetes import client, config

    authority = CertificateAuthority.open_or_create(tmp_path / "pki")
    kept = {
        f"{FULL}-ca": {
            "ca.pem": (tmp_path / "pki" / "ca.pem").read_bytes(),
            "ca.key": (tmp_path / "pki" / "ca.key").read_bytes(),
        },
        f"{FULL}-secret-key": {"secret-key": b"an old cookie key"},
        f"{FULL}-postgresql": {"password": b"an-old-password"},
    }
    fake = start_fake_kubernetes()
    try:
        api = config.new_client_from_config(str(fake.kubeconfig))
        core = client.CoreV1Api(api)
        core.create_namespace({"metadata": {"name": NAMESPACE}})
        for name, data in kept.items():
            encoded = {key: base64.b64encode(value).decode() for key, value in data.items()}
            core.create_namespaced_secret(NAMESPACE, {"metadata": {"name": name}, "data": encoded})
        api.close()
        release = helm.install(
            CHART, fake.kubeconfig, {}, release=RELEASE, namespace=NAMESPACE, adopt=True
        )
    finally:
        fake.stop()

    def secret(name: str) -> dict[str, bytes]:
        data = release.one("Secret", name)["data"]
        return {key: base64.b64decode(value) for key, value in data.items()}

    assert secret(f"{FULL}-ca") == kept[f"{FULL}-ca"]
    assert secret(f"{FULL}-secret-key") == kept[f"{FULL}-secret-key"]
    database = secret(f"{FULL}-postgresql")
    assert database["password"] == b"an-old-password"
    assert b":an-old-password@" in database["database-url"]
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for key, value in secret(f"{FULL}-executor-tls").items():
        (bundle / key).write_bytes(value)
    assert (bundle / "ca.pem").read_bytes() == authority.pem
    identity = executor_identity(bundle)
    certificate = x509.load_pem_x509_certificate(identity.cert_pem)
    authority.certificate.public_key().verify(  # type: ignore[call-arg, union-attr]
        certificate.signature,
        certificate.tbs_certificate_bytes,
        ec.ECDSA(certificate.signature_hash_algorithm),  # type: ignore[arg-type]
    )
