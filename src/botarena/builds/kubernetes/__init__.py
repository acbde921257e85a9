"""The pieces of the Kubernetes build backend: what its Jobs and objects look like.

The backend itself (creating the Job, streaming the context, following the log) is not
written yet; nothing registers a ``kubernetes`` build backend.
"""
