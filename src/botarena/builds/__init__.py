"""Builds: turning a submission's code into something a match can run, and following it."""
