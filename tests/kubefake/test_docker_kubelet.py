"""The Docker kubelet: a Job's pod really runs on the run's Docker engine, its init container
first, an emptyDir shared, its security context and limits applied, its log followed."""

from __future__ import annotations

from kubernetes import client, config

from .conftest import eventually, finished, pods_of
from support.docker import Engine
from support.kubefake import FakeKubernetes

MAIN = """
import os, sys, time
print("shared:", open("/workspace/ready").read().strip(), flush=True)
print("uid:", os.getuid(), "env:", os.environ["GREETING"], flush=True)
try:
    open("/root-fs-file", "w")
except OSError as error:
    print("root fs:", error.strerror, flush=True)
time.sleep(0.3)
print("done", flush=True)
open("/dev/termination-log", "w").write("result: 3")
sys.exit(int(os.environ["EXIT"]))
"""


def test_a_jobs_pod_runs_for_real_and_its_log_is_followed(
    docker_kubernetes: FakeKubernetes, python_image: str
) -> None:
    with config.new_client_from_config(str(docker_kubernetes.kubeconfig)) as api:
        core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
        namespace = "default"
        mount = [client.V1VolumeMount(name="work", mount_path="/workspace")]
        locked = client.V1SecurityContext(
            run_as_user=1000,
            run_as_group=1000,
            read_only_root_filesystem=True,
            allow_privilege_escalation=False,
            capabilities=client.V1Capabilities(drop=["ALL"]),
        )
        init = client.V1Container(
            name="fetch",
            image=python_image,
            command=["sh", "-c", "echo context-ready > /workspace/ready"],
            volume_mounts=mount,
        )
        main = client.V1Container(
            name="build",
            image=python_image,
            command=["python3", "-c", MAIN],
            env=[
                client.V1EnvVar(name="GREETING", value="hi"),
                client.V1EnvVar(name="EXIT", value="3"),
            ],
            volume_mounts=mount,
            security_context=locked,
            resources=client.V1ResourceRequirements(limits={"cpu": "500m", "memory": "128Mi"}),
        )
        job = client.V1Job(
            metadata=client.V1ObjectMeta(name="real"),
            spec=client.V1JobSpec(
                backoff_limit=0,
                template=client.V1PodTemplateSpec(
                    spec=client.V1PodSpec(
                        restart_policy="Never",
                        init_containers=[init],
                        containers=[main],
                        volumes=[
                            client.V1Volume(name="work", empty_dir=client.V1EmptyDirVolumeSource())
                        ],
                    )
                ),
            ),
        )
        batch.create_namespaced_job(namespace, job)

        def running() -> str | None:
            pods = pods_of(core, namespace, "real")
            return pods[0].metadata.name if pods and pods[0].status.phase == "Running" else None

        pod_name = eventually(running, 60)
        stream = core.read_namespaced_pod_log(
            pod_name, namespace, container="build", follow=True, _preload_content=False
        )
        log = b"".join(stream.stream()).decode()
        assert log.splitlines() == [
            "shared: context-ready",
            "uid: 1000 env: hi",
            "root fs: Read-only file system",
            "done",
        ]
        done = eventually(lambda: finished(batch, namespace, "real"), 30)
        assert [c.type for c in done.status.conditions] == ["FailureTarget", "Failed"]
        [pod] = pods_of(core, namespace, "real")
        ended = pod.status.container_statuses[0].state.terminated
        assert (pod.status.phase, ended.exit_code, ended.reason) == ("Failed", 3, "Error")
        assert ended.message == "result: 3"
        assert pod.status.init_container_statuses[0].state.terminated.exit_code == 0


def test_an_image_that_cannot_be_pulled_backs_off(docker_kubernetes: FakeKubernetes) -> None:
    with config.new_client_from_config(str(docker_kubernetes.kubeconfig)) as api:
        core = client.CoreV1Api(api)
        pod = client.V1Pod(
            metadata=client.V1ObjectMeta(name="nowhere"),
            spec=client.V1PodSpec(
                restart_policy="Never",
                containers=[client.V1Container(name="main", image="127.0.0.1:9/missing:1")],
            ),
        )
        core.create_namespaced_pod("default", pod)

        def reason() -> str | None:
            statuses = core.read_namespaced_pod("nowhere", "default").status.container_statuses
            waiting = statuses[0].state.waiting if statuses else None
            return waiting.reason if waiting else None

        eventually(lambda: reason() == "ErrImagePull", 30)
        eventually(lambda: reason() == "ImagePullBackOff", 30)
        core.delete_namespaced_pod("nowhere", "default")
        eventually(lambda: core.list_namespaced_pod("default").items == [], 30)


def test_a_deleted_pod_is_stopped_and_an_oom_kill_is_reported(
    docker_kubernetes: FakeKubernetes, docker_daemon: Engine, python_image: str
) -> None:
    def bare(name: str, code: str, memory: str) -> client.V1Pod:
        limits = client.V1ResourceRequirements(limits={"memory": memory})
        container = client.V1Container(
            name="main", image=python_image, command=["python3", "-c", code], resources=limits
        )
        spec = client.V1PodSpec(restart_policy="Never", containers=[container])
        return client.V1Pod(metadata=client.V1ObjectMeta(name=name), spec=spec)

    with config.new_client_from_config(str(docker_kubernetes.kubeconfig)) as api:
        core = client.CoreV1Api(api)
        core.create_namespaced_pod(
            "default", bare("sleeper", "import time; time.sleep(60)", "64Mi")
        )
        core.create_namespaced_pod("default", bare("greedy", 'b = b"x" * (400 << 20)', "32Mi"))

        def phase(name: str) -> str:
            return str(core.read_namespaced_pod(name, "default").status.phase)

        eventually(lambda: phase("sleeper") == "Running", 60)
        uid = core.read_namespaced_pod("sleeper", "default").metadata.uid
        core.delete_namespaced_pod("sleeper", "default")
        eventually(
            lambda: (
                "sleeper"
                not in [p.metadata.name for p in core.list_namespaced_pod("default").items]
            ),
            30,
        )
        engine = docker_daemon.client()
        try:
            label = f"kubefake.pod-uid={uid}"
            left = engine.containers.list(all=True, filters={"label": label})
            assert left == [], [c.attrs["State"] for c in left]
        finally:
            engine.close()

        eventually(lambda: phase("greedy") == "Failed", 60)
        ended = core.read_namespaced_pod("greedy", "default").status.container_statuses[0]
        terminated = ended.state.terminated
        assert (terminated.reason, terminated.exit_code) == ("OOMKilled", 137), terminated
