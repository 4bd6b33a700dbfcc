"""The REST worker threads: results, exceptions and cancellation as anyio.to_thread has them."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from autotrader_oanda.workers import WorkerPool

pytestmark = pytest.mark.anyio


async def test_runs_in_another_thread_and_returns_the_result() -> None:
    pool = WorkerPool()
    assert await pool.run(threading.get_ident) != threading.get_ident()
    assert await pool.run(lambda: 42) == 42
    pool.close()


async def test_the_call_s_exception_is_raised_in_the_caller() -> None:
    pool = WorkerPool()

    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await pool.run(fail)
    pool.close()


async def test_threads_are_reused_and_bounded() -> None:
    pool = WorkerPool(max_threads=2)
    idents = {await pool.run(threading.get_ident) for _ in range(20)}
    assert len(idents) == 1  # one call at a time needs one parked thread

    def slow() -> int:
        time.sleep(0.05)
        return threading.get_ident()

    results: list[int] = []

    async def one() -> None:
        results.append(await pool.run(slow))

    async with anyio.create_task_group() as tg:
        for _ in range(4):
            tg.start_soon(one)
    assert len(results) == 4 and len(set(results)) <= 2
    pool.close()


async def test_a_cancelled_caller_still_waits_for_the_call() -> None:
    pool = WorkerPool()
    finished = threading.Event()

    def request() -> None:
        time.sleep(0.1)
        finished.set()

    with anyio.move_on_after(0.01):
        await pool.run(request)
    assert finished.is_set()  # the request that may have reached the venue was not abandoned
    pool.close()
