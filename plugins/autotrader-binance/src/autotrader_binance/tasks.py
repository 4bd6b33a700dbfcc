"""Stopping a task that runs python-binance's receive loops."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Final

__all__ = ["cancel_until_done"]

_CANCEL_POLL: Final = 0.1


async def cancel_until_done(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait until it has really ended, whatever it raised.

    python-binance reads its queues and sockets through ``asyncio.wait_for``, which on Python 3.11
    can swallow a cancellation that races with a message arriving: one ``cancel()`` may not stop
    the task, so it is cancelled again until it is done.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=_CANCEL_POLL)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
