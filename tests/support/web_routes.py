"""The web pages' routes as the application holds them, for tests that must cover every page
and every form, including those added later."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


@dataclass(frozen=True)
class PageRoute:
    method: str
    path: str  # with its {parameters}

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.path)

    def url(self, values: Mapping[str, str]) -> str:
        """The path with each parameter filled; fails naming a parameter with no value (a new
        page's test seed is missing)."""
        missing = [name for name in self.params if name not in values]
        assert not missing, f"{self.method} {self.path}: give the test a value for {missing}"
        return _PARAM.sub(lambda m: values[m.group(1)], self.path)


def _walk(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        # Routers included in another are kept as they are by this FastAPI, not copied.
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(route, APIRoute):
            yield prefix + route.path, route


def page_routes(app: FastAPI) -> list[PageRoute]:
    """Every route of the web package (its endpoints live in ``botarena.web``), each method
    apart."""
    found = {
        PageRoute(method, path)
        for path, route in _walk(app.routes)
        if route.endpoint.__module__.startswith("botarena.web.")
        for method in route.methods
        if method != "HEAD"
    }
    return sorted(found, key=lambda r: (r.path, r.method))
