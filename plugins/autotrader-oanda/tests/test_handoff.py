"""Handing stream items from a thread to the event loop: in order, once, one wake-up per burst."""

from __future__ import annotations

import threading

import anyio
import pytest

from autotrader_oanda.handoff import Inbox, loop_scheduler

pytestmark = pytest.mark.anyio


async def test_a_burst_is_consumed_in_one_call_in_order() -> None:
    calls: list[list[int]] = []
    inbox = Inbox(loop_scheduler(), calls.append)
    inbox.put([1, 2])
    inbox.put([3])
    inbox.put([4, 5])
    await anyio.sleep(0.01)
    assert calls == [[1, 2, 3, 4, 5]]
    inbox.put([6])
    await anyio.sleep(0.01)
    assert calls == [[1, 2, 3, 4, 5], [6]]


async def test_items_from_a_thread_arrive_once_and_in_order() -> None:
    seen: list[int] = []
    all_seen = anyio.Event()

    def consume(items: list[int]) -> None:
        seen.extend(items)
        if len(seen) >= 3000:
            all_seen.set()

    inbox = Inbox(loop_scheduler(), consume)

    def produce() -> None:
        for start in range(0, 3000, 3):
            inbox.put(range(start, start + 3))

    thread = threading.Thread(target=produce)
    thread.start()
    with anyio.fail_after(5):
        await all_seen.wait()
    thread.join()
    assert seen == list(range(3000))
