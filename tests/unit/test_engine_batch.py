"""A cycle's decisions as one batch: checked in turn, intents committed together, sent in order."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest

from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.errors import InvalidOrder, RiskRejected
from autotrader.journal import SqliteJournal, load_state
from autotrader.model import Order, OrderRequest, OrderStatus
from autotrader.risk import RiskLimits, TradingState
from autotrader.testing.support import IdleStrategy

from .scripted import Decision, ScriptedAdapter

pytestmark = pytest.mark.anyio
D = Decimal


class CountingJournal(SqliteJournal):
    """Counts the transactions the journal commits."""

    commits = 0

    def _write(self, rows: list[tuple[float, str, str | None, str]]) -> None:
        self.commits += 1
        super()._write(rows)


def make(tmp_path: Path, adapter: ScriptedAdapter, **limits: Any) -> tuple[ExecutionEngine, CountingJournal]:
    journal = CountingJournal(tmp_path / "j.sqlite")
    config = ExecutionConfig(initial_backoff=0.001, risk=RiskLimits(price_band_pct=None, **limits))
    return ExecutionEngine(IdleStrategy(), adapter, config, journal=journal), journal


def on_disk(path: Path) -> dict[str, str]:
    """Each order's latest status, read with a separate connection (what a restart would see)."""
    other = SqliteJournal(path)
    try:
        return {coid: order.status.value for coid, order in load_state(other).orders.items()}
    finally:
        other.close()


async def test_every_intent_of_a_batch_is_on_disk_before_the_first_send_in_one_commit(
    tmp_path: Path,
) -> None:
    adapter = ScriptedAdapter()
    engine, journal = make(tmp_path, adapter)
    await engine.connect()
    seen: list[dict[str, str]] = []
    original = adapter.submit_order

    async def spy(request: OrderRequest) -> Any:
        seen.append(on_disk(tmp_path / "j.sqlite"))
        return await original(request)

    adapter.submit_order = spy  # type: ignore[method-assign]
    journal.flush()
    before = journal.commits
    results = await engine.execute_decisions(
        [Decision("LONG"), Decision("SHORT"), Decision("LONG", size="2")]
    )
    assert all(isinstance(r, Order) and r.status is OrderStatus.FILLED for r in results)
    assert len(seen) == 3
    coids = [r.client_order_id for r in results if isinstance(r, Order)]
    assert set(coids) <= set(seen[0])  # all three intents, before the first reached the venue
    assert journal.commits - before == 1  # ...in one commit (acks and fills ride with the next one)
    engine.journal.flush()  # type: ignore[union-attr]
    state = load_state(journal)
    assert [state.orders[c].status for c in coids] == [OrderStatus.FILLED] * 3
    assert state.positions["BTCUSDT"].quantity == D(2)


async def test_each_decision_gets_its_order_nothing_or_the_error_that_stopped_it(tmp_path: Path) -> None:
    adapter = ScriptedAdapter()
    adapter.fill_market_orders_at = None  # orders stay open: the open-order limit counts them
    engine, _ = make(tmp_path, adapter, max_open_orders=2)
    await engine.connect()
    decided: list[tuple[Any, Order | None]] = []
    engine.subscribe_decisions(lambda d, o: decided.append((d, o)))
    batch = [
        Decision("LONG"),
        Decision("HOLD"),
        Decision("LONG", size="-1"),
        Decision("LONG"),
        Decision("LONG"),  # third open order: refused, counting the two before it in the batch
    ]
    first, hold, bad, second, third = await engine.execute_decisions(batch)
    assert isinstance(first, Order) and first.status is OrderStatus.ACCEPTED
    assert isinstance(second, Order) and second.status is OrderStatus.ACCEPTED
    assert hold is None
    assert isinstance(bad, InvalidOrder) and bad.field == "size"
    assert isinstance(third, RiskRejected) and "open orders" in str(third)
    assert adapter.submit_calls == 2
    assert [o for _, o in decided] == [first, second]  # subscribers hear of what was sent


async def test_a_halt_while_the_batch_goes_out_withdraws_what_is_not_sent(tmp_path: Path) -> None:
    adapter = ScriptedAdapter()
    engine, _ = make(tmp_path, adapter)
    await engine.connect()
    original = adapter.submit_order

    async def halt_after_first(request: OrderRequest) -> Any:
        update = await original(request)
        engine.set_trading_state(TradingState.HALTED, "test")
        return update

    adapter.submit_order = halt_after_first  # type: ignore[method-assign]
    sent, *rest = await engine.execute_decisions([Decision("LONG")] * 3)
    assert isinstance(sent, Order) and sent.status is OrderStatus.FILLED
    assert adapter.submit_calls == 1
    for order in rest:
        assert isinstance(order, Order) and order.status is OrderStatus.CANCELLED
        assert order.reason == "not sent: trading state is HALTED"
    assert not engine.oms.get_active_orders()
    statuses = on_disk(tmp_path / "j.sqlite")
    assert [statuses[o.client_order_id] for o in rest if isinstance(o, Order)] == ["CANCELLED"] * 2


async def test_a_failed_commit_sends_nothing(tmp_path: Path) -> None:
    adapter = ScriptedAdapter()
    engine, journal = make(tmp_path, adapter)
    await engine.connect()

    def full_disk(rows: Any) -> None:
        raise OSError("disk full")

    journal._write = full_disk  # type: ignore[method-assign]
    with pytest.raises(OSError, match="disk full"):
        await engine.execute_decisions([Decision("LONG"), Decision("LONG")])
    assert adapter.submit_calls == 0
    assert not engine.oms.get_active_orders()  # withdrawn: an unjournaled intent is never sent


async def test_cancelling_the_batch_withdraws_what_is_not_sent(tmp_path: Path) -> None:
    adapter = ScriptedAdapter()
    engine, _ = make(tmp_path, adapter)
    await engine.connect()
    started = anyio.Event()

    async def slow(request: OrderRequest) -> Any:
        started.set()
        await anyio.sleep(60)

    adapter.submit_order = slow  # type: ignore[method-assign]
    results: list[Any] = []

    async def run() -> None:
        results.extend(await engine.execute_decisions([Decision("LONG")] * 3))

    async with anyio.create_task_group() as tg:
        tg.start_soon(run)
        await started.wait()
        tg.cancel_scope.cancel()
    assert not results
    (sent,) = engine.oms.get_active_orders()  # sent: its outcome is the OMS's to establish
    assert sent.status is OrderStatus.SUBMITTED
    withdrawn = engine.oms.get_completed_orders()
    assert [o.status for o in withdrawn] == [OrderStatus.CANCELLED] * 2
    assert {o.reason for o in withdrawn} == {"not sent: the batch was interrupted"}
    assert adapter.submit_calls == 0  # the spy replaced the counting submit
    statuses = on_disk(tmp_path / "j.sqlite")
    assert [statuses[o.client_order_id] for o in withdrawn] == ["CANCELLED"] * 2  # never resent


async def test_a_cycle_is_one_batch_and_holds_a_second_decision_for_a_symbol(tmp_path: Path) -> None:
    adapter = ScriptedAdapter()
    engine, journal = make(tmp_path, adapter)
    await engine.connect()

    class TwoForOne(IdleStrategy):
        def process_signal(self, symbol: str, data: Any) -> Any:
            return Decision("LONG")  # always BTCUSDT, whatever the data's symbol

    engine.strategy = TwoForOne()
    journal.flush()
    before = journal.commits
    orders = await engine.process_market_data({"BTCUSDT": {"price": 100}, "ETHUSDT": {"price": 10}})
    assert len(orders) == 1  # the second decision for BTCUSDT is held while the first works
    assert journal.commits - before == 2  # the batch's intents, then the cycle's closing flush
