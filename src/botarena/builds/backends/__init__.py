"""Build backends: where a submission's code becomes something a match can run."""
