"""The web pages: server-rendered HTML over the same services as the API, live through SSE.

Above every stage, like the API; only the composition root (``botarena.app``) imports it.
"""
