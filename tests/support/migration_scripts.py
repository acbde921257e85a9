"""The migration scripts read once per test process, not at every start of the app.

Every test's app migrates its database when it starts (already at head: nothing to do), and
Alembic reads the scripts folder anew each time, loading every revision file: about 40 ms,
most of the migration step, before nearly every test. The scripts do not change while the
tests run, so the folder read for one configuration is kept and given to the next that names
the same options; each run still takes its own configuration (its engine) and runs
``env.py`` and the upgrade as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory


@pytest.fixture(autouse=True, scope="session")
def migration_scripts_read_once() -> Iterator[None]:
    original = ScriptDirectory.__dict__["from_config"]
    read = original.__func__
    known: dict[tuple[tuple[str, str], ...], ScriptDirectory] = {}

    def from_config(cls: type[ScriptDirectory], config: Config) -> Any:
        options = config.get_section(config.config_ini_section) or {}
        key = tuple(sorted(options.items()))
        if key not in known:
            known[key] = read(cls, config)
        return known[key]

    ScriptDirectory.from_config = classmethod(from_config)  # type: ignore[method-assign,assignment]
    yield
    ScriptDirectory.from_config = original  # type: ignore[method-assign]
