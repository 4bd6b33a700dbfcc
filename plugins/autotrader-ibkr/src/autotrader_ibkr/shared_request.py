"""One kind of TWS request that concurrent callers share.

TWS answers open-orders and completed-orders requests without a request id and the client
library collects them in one slot per kind, so two in flight at once corrupt each other; and a
completed-orders answer is the whole day.  Callers therefore queue here, and each gets an answer
TWS *began* after the caller asked: an answer started earlier could predate what the caller
must see, so it is never reused for that caller, while one started later serves every caller
waiting for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar, cast

import anyio

__all__ = ["SharedRequest"]

T = TypeVar("T")


class SharedRequest(Generic[T]):
    """``get()`` runs ``ask`` at most once at a time; waiters share an answer begun after they asked."""

    def __init__(self, ask: Callable[[], Awaitable[T]]) -> None:
        self._ask = ask
        self._lock = anyio.Lock()
        self._started = 0
        self._answered = 0
        self._answer: T | None = None

    def mark(self) -> int:
        """A point in the request sequence: ``get(mark)`` answers with a request begun after it."""
        return self._started

    async def get(self, mark: int | None = None) -> T:
        """An answer TWS began after ``mark`` (default: now)."""
        since = self._started if mark is None else mark
        async with self._lock:
            if self._answered > since:
                return cast(T, self._answer)
            self._started += 1
            number = self._started
            answer = await self._ask()
            self._answer, self._answered = answer, number
            return answer
