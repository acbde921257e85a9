"""The HTTP client that the command line uses to talk to a running server."""
