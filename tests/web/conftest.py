"""The pages are a thin layer over the services, whose own tests run on both databases: a page
test runs on SQLite only, unless its module reads through queries or notices of its own that
no other test runs on PostgreSQL, and says so with ``BOTH_DATABASES = True``."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database_url") == "postgres"
        in_web = item.path.parent == HERE
        both = getattr(item.module, "BOTH_DATABASES", False)
        (dropped if on_postgres and in_web and not both else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
