"""Signing in and out of the pages, and signing up when sign-up is open."""
