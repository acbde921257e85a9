"""The silence watch: a call is cancelled only when its deadline passes before it is disarmed."""

from __future__ import annotations

import threading

from botarena.executor.silence import SilenceWatch


def test_a_silent_call_is_cancelled_and_an_answered_one_is_not() -> None:
    watch = SilenceWatch()
    silent, answered = threading.Event(), threading.Event()
    try:
        watch.arm("answered", 0.2, answered.set)
        watch.arm("silent", 0.05, silent.set)  # earlier than the thread's current wait
        watch.disarm("answered")
        assert silent.wait(2)
        assert not answered.wait(0.4)
    finally:
        watch.close()


def test_a_closed_watch_cancels_nothing() -> None:
    watch = SilenceWatch()
    cancelled = threading.Event()
    watch.arm("call", 0.05, cancelled.set)
    watch.close()
    watch.arm("later", 0.01, cancelled.set)
    assert not cancelled.wait(0.3)
