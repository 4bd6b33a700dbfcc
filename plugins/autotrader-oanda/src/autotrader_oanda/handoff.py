"""Hand work from the transaction-stream thread to the event loop without waiting for it.

``anyio.from_thread.run_sync`` blocks the calling thread until the loop has run the function:
per stream message, two thread wake-ups (loop, then stream thread) that fought the worker
thread carrying the order's REST answer for the GIL -- measured ~170 us of the adapter's
submit -> ack on loopback.  The loops' own thread-safe schedulers queue the call and return;
calls from one thread run in the order they were made, so transactions keep their order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import sniffio

__all__ = ["Schedule", "loop_scheduler"]

log = logging.getLogger(__name__)

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
