"""The audit log: who did what, when and from where, for admin actions and tokens."""
