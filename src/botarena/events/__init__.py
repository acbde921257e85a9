"""The event bus: what happened, told once per process to every live listener.

One :class:`EventBus` per process and database. Rows that a committed transaction added (a
status history row, a changed rating) become :class:`Notice` objects through watchers the
composition root registers; anything else (a build log that grew) is published directly. In a
process the bus hands each notice to its subscribers on one delivery thread; on PostgreSQL it
also relays notices to every other process through ``LISTEN``/``NOTIFY``.
"""

from botarena.events.bus import EventBus, Subscription, bus_for
from botarena.events.notice import Notice

__all__ = ["EventBus", "Notice", "Subscription", "bus_for"]
