"""Signals from routes to the background services of this server, without importing them."""

from __future__ import annotations

from fastapi import Request


def notify_build_queued(request: Request) -> None:
    """A build was queued: wake this server's build workers, if it runs any."""
    wake = getattr(request.app.state, "on_build_queued", None)
    if callable(wake):
        wake()


def notify_match_queued(request: Request) -> None:
    """A match was queued: wake this server's dispatcher, if it runs one."""
    wake = getattr(request.app.state, "on_match_queued", None)
    if callable(wake):
        wake()
