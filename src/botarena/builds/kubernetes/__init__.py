"""The Kubernetes build mode's pieces: names, manifests, the calls to the API, the watch of
build Jobs and pods, and what a Job's end means (the backend: builds/backends/kubernetes.py).
"""
