"""The kubernetes match runner's settings: read from the environment, checked, bad values
refused with the variable named; and ``botarena executor`` refusing to start without a
cluster it can reach."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from botarena.settings import REFEREE_IMAGE

from support.env_settings import DIGEST, from_env
from support.executors import authority


def test_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_env(monkeypatch)
    assert settings.match_runner == "auto"
    assert settings.k8s_referee_image == REFEREE_IMAGE
    assert (settings.k8s_agent_cpu, settings.k8s_agent_memory) == ("1", "512Mi")
    assert (settings.k8s_referee_cpu, settings.k8s_referee_memory) == ("500m", "256Mi")
    assert settings.k8s_match_tmp_size == "64Mi"
    assert settings.k8s_match_ttl_seconds == 300
    assert settings.k8s_match_runtime_class is None


def test_every_setting_comes_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    image = f"registry.example.org/botarena:1.2@{DIGEST}"
    settings = from_env(
        monkeypatch,
        match_runner="kubernetes",
        k8s_referee_image=image,
        k8s_agent_cpu="250m",
        k8s_agent_memory="1Gi",
        k8s_referee_cpu="100m",
        k8s_referee_memory="128Mi",
        k8s_match_tmp_size="16Mi",
        k8s_match_ttl_seconds="0",
        k8s_match_runtime_class="gvisor",
    )
    assert settings.match_runner == "kubernetes"
    assert settings.k8s_referee_image == image
    assert (settings.k8s_agent_cpu, settings.k8s_agent_memory) == ("250m", "1Gi")
    assert (settings.k8s_referee_cpu, settings.k8s_referee_memory) == ("100m", "128Mi")
    assert (settings.k8s_match_tmp_size, settings.k8s_match_ttl_seconds) == ("16Mi", 0)
    assert settings.k8s_match_runtime_class == "gvisor"
    assert from_env(monkeypatch, k8s_match_runtime_class="").k8s_match_runtime_class is None


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("match_runner", "k8s", "'auto' or 'kubernetes'"),
        ("k8s_referee_image", "botarena/botarena", "referee image"),
        ("k8s_referee_image", "registry.example.org/botarena@sha256:abc", "referee image"),
        ("k8s_agent_memory", "2GB", "BOTARENA_K8S_AGENT_MEMORY"),
        ("k8s_referee_cpu", "-1", "BOTARENA_K8S_REFEREE_CPU"),
        ("k8s_match_tmp_size", "lots", "BOTARENA_K8S_MATCH_TMP_SIZE"),
        ("k8s_match_runtime_class", "Not_A_Name", "RuntimeClass name"),
        ("k8s_match_ttl_seconds", "-5", "k8s_match_ttl_seconds"),
    ],
)
def test_bad_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    with pytest.raises(ValidationError, match=said):
        from_env(monkeypatch, **{variable: value})


def test_the_executor_will_not_start_without_a_cluster(tmp_path: Path) -> None:
    authority(tmp_path)  # its credentials are there: only the cluster is missing
    environment = {
        **os.environ,
        "BOTARENA_DATA_DIR": str(tmp_path),
        "BOTARENA_MATCH_RUNNER": "kubernetes",
        "BOTARENA_K8S_KUBECONFIG": str(tmp_path / "missing-kubeconfig"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "botarena", "executor", "--listen", "127.0.0.1:0"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "cannot reach the Kubernetes cluster" in done.stderr
