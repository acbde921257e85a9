"""What a failed image build left on the engine, removed whatever stopped it.

A build's steps run in containers and commit images. The engine removes the containers of a
step that fails, but not when it is itself stopped mid-build (they stay ``Exited``), and the
images of a stage that got part of the way (a dependencies stage whose install failed) stay
behind, untagged. After a build that failed, its step containers are removed and its step
images that nothing tags and that did not come from the cache; when the engine cannot be
reached then (or fails to remove a container), they are kept here and removed before and after
the next build (in this process).
A successful build keeps its step images: they are the layer cache of the next one.
"""

from __future__ import annotations

import threading

import docker
import docker.errors
import requests
import structlog

from botarena.builds.images import ImageBuilder

log = structlog.get_logger(__name__)


class Leftovers:
    """Step containers and images of failed builds, until they are removed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._containers: list[str] = []
        self._images: list[str] = []

    def collect(self, builder: ImageBuilder) -> None:
        with self._lock:
            self._containers += builder.containers
            # Children before parents: an image with a child cannot be removed.
            self._images = list(reversed(builder.images)) + self._images
        builder.containers, builder.images = [], []

    def clean(self, client: docker.DockerClient) -> None:
        """Remove what can be; what the engine cannot be asked about now is kept for later."""
        with self._lock:
            containers, self._containers = self._containers, []
            images, self._images = self._images, []
        kept_containers = [c for c in containers if not _removed(client, "container", c)]
        kept_images = [i for i in images if not _removed(client, "image", i)]
        with self._lock:
            self._containers += kept_containers
            self._images = kept_images + self._images


def _removed(client: docker.DockerClient, kind: str, ident: str) -> bool:
    """Removed or nothing to remove: True; the engine did not answer: False."""
    try:
        if kind == "container":
            client.api.remove_container(ident, force=True)
        else:
            found = client.api.inspect_image(ident)  # type: ignore[no-untyped-call]
            if found.get("RepoTags"):
                return True  # tagged since (the same layers built again): not ours to remove
            client.api.remove_image(ident, noprune=True)
    except docker.errors.NotFound:
        return True
    except docker.errors.APIError as exc:
        if kind == "container" and exc.is_server_error():
            # The engine failed to remove it now (e.g. its filesystem still busy while the
            # engine comes back from a stop): asked again before the next build.
            log.info("a build leftover is kept for later", kind=kind, id=ident, reason=str(exc))
            return False
        log.info("a build leftover stays", kind=kind, id=ident, reason=str(exc))
        return True  # in use (a later build's cache or container): the engine keeps it
    except (docker.errors.DockerException, requests.RequestException):
        return False
    log.info("build leftover removed", kind=kind, id=ident)
    return True
