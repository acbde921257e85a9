"""A Go client against the fake: kubectl (Debian's) finds the resources by discovery, sends
its token over the fake's TLS, creates a Job and deletes it (kubectl asks for Background)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .conftest import eventually
from support.kubefake import FakeKubernetes

KUBECTL = shutil.which("kubectl")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_creates_lists_and_deletes_a_job(fake_kubernetes: FakeKubernetes) -> None:
    def kubectl(*arguments: str) -> str:
        done = subprocess.run(
            [str(KUBECTL), "--kubeconfig", str(fake_kubernetes.kubeconfig), *arguments],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    assert "Server Version: v1.31.0" in kubectl("version")
    assert "kube-system" in kubectl("get", "ns", "-o", "name")
    kubectl("create", "job", "hello", "--image=agent:1", "--", "echo", "hi")
    assert kubectl("get", "jobs", "-o", "name").split() == ["job.batch/hello"]
    pods = kubectl("get", "pods", "-l", "job-name=hello", "-o", "name").split()
    assert len(pods) == 1 and pods[0].startswith("pod/hello-")
    kubectl("delete", "job", "hello", "--wait=false")
    assert kubectl("get", "jobs", "-o", "name") == ""
    eventually(lambda: kubectl("get", "pods", "-o", "name") == "")
