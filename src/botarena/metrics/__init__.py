"""Prometheus metrics: every name defined in :mod:`.definitions`, the queues read at scrape
time (:mod:`.queues`), the HTTP middleware (:mod:`.http`) and the scrape's body
(:mod:`.exposition`). Below every stage: any of them may call its hooks."""
