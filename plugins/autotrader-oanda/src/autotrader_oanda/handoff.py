"""Hand work from the transaction-stream thread to the event loop without waiting for it.

``anyio.from_thread.run_sync`` blocks the calling thread until the loop has run the function:
per stream message, two thread wake-ups (loop, then stream thread) that fought the worker
thread carrying the order's REST answer for the GIL -- measured ~170 us of the adapter's
submit -> ack on loopback.  The loops' own thread-safe schedulers queue the call and return;
calls from one thread run in the order they were made, so transactions keep their order.

:class:`Inbox` goes one step further for the stream: a burst of transactions (an order's create
and fill arrive together) costs the loop one wake-up, not one per transaction; each wake-up is
a self-pipe write and a loop pass that competes with the worker thread carrying the order's
REST answer for the GIL.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import sniffio

__all__ = ["Inbox", "Schedule", "loop_scheduler"]

log = logging.getLogger(__name__)
T = TypeVar("T")

Schedule = Callable[..., Any]
"""``schedule(fn, *args)``: queue ``fn(*args)`` on the loop, from any thread; returns at once."""


def loop_scheduler() -> Schedule:
    """The running loop's thread-safe scheduler (call this in the loop's own thread)."""
    if sniffio.current_async_library() == "trio":
        import trio

        run_sync_soon = trio.lowlevel.current_trio_token().run_sync_soon

        def schedule(fn: Callable[..., Any], *args: Any) -> None:
            run_sync_soon(_logged, fn, *args)  # an exception here would crash trio's run

        return schedule
    return asyncio.get_running_loop().call_soon_threadsafe


def _logged(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("oanda: handing stream transactions to the event loop failed")


class Inbox(Generic[T]):
    """Items put from any thread reach ``consume`` on the loop in order, one call per burst.

    The first :meth:`put` of a burst schedules a drain; later puts only append until that
    drain has taken the items, so every item is consumed exactly once, in the order put.
    """

    def __init__(self, schedule: Schedule, consume: Callable[[list[T]], None]) -> None:
        self._schedule = schedule
        self._consume = consume
        self._items: list[T] = []
        self._lock = threading.Lock()
        self._drain_scheduled = False

    def put(self, items: Iterable[T]) -> None:
        """Queue ``items`` (any thread); raises if the loop is gone (then nothing drains)."""
        with self._lock:
            self._items.extend(items)
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
        self._schedule(self._drain)

    def _drain(self) -> None:
        with self._lock:
            items, self._items = self._items, []
            self._drain_scheduled = False
        self._consume(items)
