"""The ladder: ranked matches scheduled to teach the ranking the most."""
