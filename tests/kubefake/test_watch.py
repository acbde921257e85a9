"""Watch as the official client's ``Watch.stream`` sees it: events after a resourceVersion,
initial ADDED events, 410 Gone as HTTP and as an ERROR event, bookmarks, timeoutSeconds,
selectors, and a dropped stream."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import urllib3.exceptions
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from support.kubefake import FakeKubernetes


def config_map(name: str, **labels: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels or None))


def events(core: client.CoreV1Api, namespace: str, count: int, **query: Any) -> list[Any]:
    """The first ``count`` events of a watch (the watch ends after 5 s in any case)."""
    seen: list[Any] = []
    stream = watch.Watch()
    for event in stream.stream(
        core.list_namespaced_config_map, namespace, timeout_seconds=5, **query
    ):
        seen.append(event)
        if len(seen) == count:
            stream.stop()
    return seen


def _read(
    core: client.CoreV1Api, namespace: str, version: str, seen: list[str], then: Callable[[], None]
) -> None:
    """Watch from ``version``; after each event's name is noted, call ``then``."""
    for event in watch.Watch().stream(
        core.list_namespaced_config_map, namespace, resource_version=version, timeout_seconds=5
    ):
        seen.append(event["object"].metadata.name)
        then()


def test_a_watch_from_a_version_sees_only_later_events_and_the_final_object(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_config_map(namespace, config_map("before"))
    version = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, config_map("a"))
    core.patch_namespaced_config_map("a", namespace, {"metadata": {"labels": {"last": "yes"}}})
    core.delete_namespaced_config_map("a", namespace)
    seen = events(core, namespace, 3, resource_version=version)
    assert [(e["type"], e["object"].metadata.name) for e in seen] == [
        ("ADDED", "a"),
        ("MODIFIED", "a"),
        ("DELETED", "a"),
    ]
    assert seen[2]["object"].metadata.labels == {"last": "yes"}
    versions = [int(e["object"].metadata.resource_version) for e in seen]
    assert versions == sorted(versions) and versions[0] > int(version)


def test_a_watch_without_a_version_starts_with_the_current_objects(
    core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_config_map(namespace, config_map("a"))
    core.create_namespaced_config_map(namespace, config_map("b"))
    seen = events(core, namespace, 2)
    assert [(e["type"], e["object"].metadata.name) for e in seen] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
    ]


def test_selectors_filter_the_events(core: client.CoreV1Api, namespace: str) -> None:
    version = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, config_map("other", app="match"))
    core.create_namespaced_config_map(namespace, config_map("mine", app="build"))
    core.create_namespaced_config_map(namespace, config_map("named"))
    labelled = events(core, namespace, 1, resource_version=version, label_selector="app=build")
    assert [e["object"].metadata.name for e in labelled] == ["mine"]
    named = events(
        core, namespace, 1, resource_version=version, field_selector="metadata.name=named"
    )
    assert [e["object"].metadata.name for e in named] == ["named"]


def test_an_object_relabelled_out_of_the_selection_is_deleted_for_the_watch(
    core: client.CoreV1Api, namespace: str
) -> None:
    version = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, config_map("a", app="other"))
    core.patch_namespaced_config_map("a", namespace, {"metadata": {"labels": {"app": "build"}}})
    core.patch_namespaced_config_map("a", namespace, {"data": {"k": "v"}})
    core.patch_namespaced_config_map("a", namespace, {"metadata": {"labels": {"app": "done"}}})
    seen = events(core, namespace, 3, resource_version=version, label_selector="app=build")
    assert [e["type"] for e in seen] == ["ADDED", "MODIFIED", "DELETED"]
    assert seen[2]["object"].metadata.labels == {"app": "done"}


def test_a_compacted_version_is_410_gone_as_http(
    fake_kubernetes: FakeKubernetes, core: client.CoreV1Api, namespace: str
) -> None:
    fake_kubernetes.cluster.settings.gone_as = "http"
    version = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, config_map("a"))
    fake_kubernetes.compact()
    core.create_namespaced_config_map(namespace, config_map("b"))
    with pytest.raises(ApiException) as raised:
        events(core, namespace, 1, resource_version=version)
    assert raised.value.status == 410
    # From the version of a fresh list, the watch works again.
    fresh = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, config_map("c"))
    assert [
        e["object"].metadata.name for e in events(core, namespace, 1, resource_version=fresh)
    ] == ["c"]


def test_a_compacted_version_is_410_as_an_error_event(
    fake_kubernetes: FakeKubernetes, core: client.CoreV1Api, namespace: str
) -> None:
    assert fake_kubernetes.cluster.settings.gone_as == "event"  # the API server's way
    version = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, config_map("a"))
    fake_kubernetes.compact()
    with pytest.raises(ApiException) as raised:
        events(core, namespace, 1, resource_version=version)
    assert raised.value.status == 410
    assert "too old resource version" in raised.value.reason


def test_an_open_watch_can_be_expired_mid_stream(
    fake_kubernetes: FakeKubernetes, core: client.CoreV1Api, namespace: str
) -> None:
    version = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, config_map("a"))
    seen: list[str] = []
    with pytest.raises(ApiException) as raised:
        _read(core, namespace, version, seen, fake_kubernetes.expire_watches)
    assert seen == ["a"]
    assert raised.value.status == 410


def test_bookmarks_carry_only_the_current_version(
    fake_kubernetes: FakeKubernetes, core: client.CoreV1Api, namespace: str
) -> None:
    made = core.create_namespaced_config_map(namespace, config_map("a"))
    seen = events(
        core,
        namespace,
        2,
        resource_version=made.metadata.resource_version,
        allow_watch_bookmarks=True,
    )
    assert {e["type"] for e in seen} == {"BOOKMARK"}
    raw = seen[0]["raw_object"]
    assert raw["metadata"] == {"resourceVersion": made.metadata.resource_version}
    assert set(raw) == {"kind", "apiVersion", "metadata"}


def test_timeout_seconds_ends_the_stream(core: client.CoreV1Api, namespace: str) -> None:
    version = core.list_namespaced_config_map(namespace).metadata.resource_version
    started = time.monotonic()
    seen = list(
        watch.Watch().stream(
            core.list_namespaced_config_map, namespace, resource_version=version, timeout_seconds=1
        )
    )
    assert seen == []
    assert 0.9 <= time.monotonic() - started < 3


def test_a_dropped_stream_breaks_the_connection(
    fake_kubernetes: FakeKubernetes, core: client.CoreV1Api, namespace: str
) -> None:
    version = core.list_namespaced_config_map(namespace).metadata.resource_version
    core.create_namespaced_config_map(namespace, config_map("a"))
    seen: list[str] = []
    with pytest.raises(urllib3.exceptions.ProtocolError):
        _read(core, namespace, version, seen, fake_kubernetes.drop_watches)
    assert seen == ["a"]
    assert fake_kubernetes.cluster.watches == set()


def test_the_history_is_bounded_and_older_versions_are_gone(
    fake_kubernetes: FakeKubernetes, core: client.CoreV1Api, namespace: str
) -> None:
    fake_kubernetes.cluster.store.max_history = 3
    version = core.list_namespaced_config_map(namespace).metadata.resource_version
    for name in "abcd":
        core.create_namespaced_config_map(namespace, config_map(name))
    with pytest.raises(ApiException) as raised:
        events(core, namespace, 1, resource_version=version)
    assert raised.value.status == 410
    recent = int(version) + 2  # the last three writes are still kept
    seen = events(core, namespace, 2, resource_version=str(recent))
    assert [e["object"].metadata.name for e in seen] == ["c", "d"]
