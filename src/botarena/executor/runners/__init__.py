"""Runners start agent processes for a match: ``local`` (bubblewrap) today, more behind the same
interface."""
