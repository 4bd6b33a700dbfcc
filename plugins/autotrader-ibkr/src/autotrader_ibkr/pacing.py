"""How fast the adapter talks to TWS: order messages per second, and reconnect backoff.

A sliding one-second window of order messages keeps IB's 50 messages/second from being hit.
ib_async and ib_insync queue requests above 45 a second themselves; pacing order messages
below that in the adapter means an order's timeout starts when it is written, not while it
waits in the library's queue.  The libraries have no reconnect at all, so the adapter's reconnect
loop waits :func:`backoff_delays` between attempts.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterator

import anyio

__all__ = ["Pacer", "backoff_delays"]


def backoff_delays(initial: float, maximum: float) -> Iterator[float]:
    """``initial``, doubling each time, capped at ``maximum`` (and then forever ``maximum``)."""
    for attempt in itertools.count():
        delay = initial * 2**attempt
        if delay >= maximum:
            break
        yield delay
    yield from itertools.repeat(maximum)


class Pacer:
    """At most ``per_second`` messages in any ``window``; callers beyond that wait their turn."""

    def __init__(self, per_second: int, *, window: float = 1.0) -> None:
        self.per_second = per_second
        self.window = window
        self._sent: collections.deque[float] = collections.deque()
        self._lock = anyio.Lock()

    async def wait(self) -> None:
        """Return when one more message fits in the window (and count it).

        With room in the window and nobody waiting this returns without yielding: taking the lock
        costs a trip round the event loop, which is in every order's time to the wire (measured
        ~7 us idle, more when the loop has sockets to poll).
        """
        if not self._lock.locked() and self._admit(anyio.current_time()):
            return
        async with self._lock:
            while True:
                now = anyio.current_time()
                if self._admit(now):
                    return
                await anyio.sleep(self.window - (now - self._sent[0]))

    def _admit(self, now: float) -> bool:
        """Count a message sent ``now`` if the window has room for it."""
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        if len(self._sent) < self.per_second:
            self._sent.append(now)
            return True
        return False
