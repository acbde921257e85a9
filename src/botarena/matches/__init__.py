"""Matches on the platform: queued, handed to executors over gRPC, recorded once."""
