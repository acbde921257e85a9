"""Notifications: a user's webhooks and e-mail about their builds, challenges and tournaments."""
