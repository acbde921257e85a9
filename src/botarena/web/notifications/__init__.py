"""The notification settings page."""
