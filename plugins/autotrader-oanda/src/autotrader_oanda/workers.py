"""The adapter's REST calls, each run in one of a few reusable worker threads.

oandapyV20 is synchronous, so every call leaves the event loop for a thread.  Through
``anyio.to_thread.run_sync`` that round trip measured ~110 us on the 2-core machine (a loop
checkpoint, the capacity limiter, a ``queue.Queue`` per worker, the future's plumbing), a tenth
of a loopback order request; a ``SimpleQueue`` to parked threads and the loop's own thread-safe
scheduler for the answer measured ~20 us.  Semantics kept from ``to_thread.run_sync``: the
call's exception is raised in the caller, and a cancelled caller still waits for the call to
finish (a request that may have reached the venue is never abandoned).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import anyio

from autotrader_oanda.handoff import Schedule, loop_scheduler

__all__ = ["WorkerPool"]

T = TypeVar("T")


class _Job(Generic[T]):
    __slots__ = ("done", "error", "fn", "result", "schedule")

    def __init__(self, fn: Callable[[], T], schedule: Schedule) -> None:
        self.fn = fn
        self.schedule = schedule
        self.done = anyio.Event()
        self.result: T | None = None
        self.error: BaseException | None = None


class WorkerPool:
    """Up to ``max_threads`` daemon threads, started on demand and parked between calls."""

    def __init__(self, max_threads: int = 8, name: str = "oanda-rest") -> None:
        self.max_threads = max_threads
        self.name = name
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0

    async def run(self, fn: Callable[[], T]) -> T:
        """``fn()`` in a worker thread; its result, or its exception raised here."""
        job = _Job(fn, loop_scheduler())
        with self._lock:
            if self._idle == 0 and self._threads < self.max_threads:
                self._threads += 1
                threading.Thread(target=self._work, name=f"{self.name}-{self._threads}", daemon=True).start()
        self._jobs.put(job)
        with anyio.CancelScope(shield=True):
            await job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def close(self) -> None:
        """Let every thread finish its call and exit (later calls start new threads)."""
        with self._lock:
            count, self._threads, self._idle = self._threads, 0, 0
        for _ in range(count):
            self._jobs.put(None)

    def _work(self) -> None:
        with self._lock:
            self._idle += 1
        while True:
            job = self._jobs.get()
            if job is None:
                return
            with self._lock:
                self._idle -= 1
            try:
                job.result = job.fn()
            except BaseException as exc:  # handed to the caller, like to_thread.run_sync
                job.error = exc
            with self._lock:
                self._idle += 1
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits for the answer
                job.schedule(job.done.set)
