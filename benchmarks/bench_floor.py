"""The floor of benchmark 1: the minimum any engine must do per order, in plain Python.

Build a request, track it by id, apply one fill to a position, notify through an asyncio queue.
Imported by bench_order_path.py, which compares the engine with it in the same run.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal


async def floor_orders_per_second(n: int) -> float:
    queue: asyncio.Queue[tuple[str, Decimal, Decimal]] = asyncio.Queue()
    orders: dict[str, dict[str, object]] = {}
    position = {"qty": Decimal(0), "avg": Decimal(0)}
    price = Decimal("100")
    qty = Decimal(1)

    async def consumer() -> None:
        for _ in range(n):
            await queue.get()

    task = asyncio.create_task(consumer())
    started = time.perf_counter()
    for i in range(n):
        coid = f"c{i}"
        request = {"id": coid, "symbol": "SYM", "side": "BUY", "qty": qty, "price": price}
        orders[coid] = request
        new_qty = position["qty"] + qty
        position["avg"] = (position["avg"] * position["qty"] + price * qty) / new_qty
        position["qty"] = new_qty
        request["status"] = "FILLED"
        queue.put_nowait((coid, qty, price))
        await asyncio.sleep(0)
    await task
    return n / (time.perf_counter() - started)


if __name__ == "__main__":
    print(f"floor: {asyncio.run(floor_orders_per_second(200_000)):,.0f} orders/s")
