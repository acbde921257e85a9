"""The ``botarena`` command: one entry point for every part of the platform."""

from __future__ import annotations

from botarena.cli.app import app, main

__all__ = ["app", "main"]
