"""The Grafana dashboard in deploy/grafana/ asks only for metrics the platform exposes, and
shows every one of them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from botarena.metrics.definitions import exposed_names

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "botarena.json"
_NAME = re.compile(r"\bbotarena_[a-z_]+\b")


def expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]


def test_every_name_the_dashboard_asks_for_is_exposed() -> None:
    asked = {name for expr in expressions() for name in _NAME.findall(expr)}
    assert asked, "the dashboard asks for nothing"
    assert asked <= exposed_names(), asked - exposed_names()


def test_every_metric_has_a_panel() -> None:
    asked = " ".join(expressions())
    families = {re.sub(r"_(total|bucket|sum|count|created)$", "", n) for n in exposed_names()}
    missing = {family for family in families if family not in asked}
    assert missing == set()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_what_a_server_exposes_is_what_the_definitions_name(client: TestClient) -> None:
    """The list the dashboard is checked against is the scrape's own, not a copy of it."""
    client.get("/healthz")
    scraped = {
        sample.name
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
        if sample.name.startswith("botarena_")
    }
    assert {"botarena_build_queue_depth", "botarena_http_requests_total"} <= scraped
    assert scraped <= exposed_names(), scraped - exposed_names()
