"""The Kubernetes match runner's pieces: the match Job and the NetworkPolicy that isolates
match pods (manifests.py); the runner itself is ``executor/runners/kubernetes.py``."""
