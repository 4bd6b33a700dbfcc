"""Random decisions and random venue events against the engine (paper venue), checking invariants.

Bad decisions must get typed errors and send nothing; whatever happens, the OMS must keep
filled <= quantity, position == signed sum of the fills it applied, every applied fill must be a
venue trade (exactly once), and no illegal transition may ever be applied.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autotrader.engine import ExecutionConfig, ExecutionEngine
from autotrader.errors import InvalidOrder, RiskRejected
from autotrader.lifecycle import can_transition
from autotrader.model import Order, OrderSide
from autotrader.risk import RiskLimits
from autotrader.strategy import ExecutionDecision
from autotrader.testing.harness import Fault
from autotrader.testing.support import IdleStrategy
from autotrader_paper import PaperTradingAdapter
from autotrader_paper.control import PaperVenueControl

sizes = st.one_of(
    st.sampled_from(["0.001", "0.01", "0.5", "0.123456789", "0", "-1", "1e-9"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(
        allow_nan=False, allow_infinity=False, min_value=Decimal("-1"), max_value=Decimal("2"), places=6
    ),
)
prices = st.one_of(st.none(), st.integers(40_000, 60_000), st.sampled_from(["50000.005", "nan", "-5", 0.1]))
decisions: st.SearchStrategy[dict[str, Any]] = st.builds(
    dict,
    action=st.sampled_from(["LONG", "SHORT", "CLOSE", "HOLD", "long", "BUY", "MOON"]),
    symbol=st.sampled_from(["BTCUSDT", "BTCUSDT", "ETHUSDT", "NOPE"]),
    size=sizes,
    limit=prices,
    stop=st.one_of(st.none(), st.integers(40_000, 60_000)),
    tif=st.sampled_from([None, "IOC", "FOK", "GTC", "DAY", "XYZ"]),
)
venue_events = st.one_of(
    st.tuples(st.just("price"), st.integers(40_000, 60_000)),
    st.tuples(st.just("liquidity"), st.sampled_from([None, "0.001", "0.01"])),
    st.tuples(st.just("fault"), st.sampled_from([f for f in Fault if f is not Fault.DROP_STREAM])),
    st.tuples(st.just("cancel_all"), st.just(0)),
)
steps = st.lists(
    st.one_of(decisions.map(lambda d: ("decide", d)), venue_events.map(lambda e: ("venue", e))), max_size=40
)


def _decision(raw: dict[str, Any]) -> ExecutionDecision:
    metadata: dict[str, Any] = {}
    if raw["limit"] is not None:
        metadata["limit_price"] = raw["limit"]
    if raw["stop"] is not None:
        metadata["stop_price"] = raw["stop"]
    if raw["tif"] is not None:
        metadata["time_in_force"] = raw["tif"]
    return ExecutionDecision(action=raw["action"], symbol=raw["symbol"], size=raw["size"], metadata=metadata)


async def _run(sequence: list[tuple[str, Any]]) -> None:
    adapter = PaperTradingAdapter(latency_ms=(0, 0), fill_probability=1.0, seed=1, initial_balance=10**7)
    control = PaperVenueControl(adapter)
    config = ExecutionConfig(
        initial_backoff=0.0, max_retries=2, risk=RiskLimits(price_band_pct=None, max_open_orders=10**6)
    )
    engine = ExecutionEngine(IdleStrategy(), adapter, config)
    engine.resiliency.reconcile_delay = 0.0
    transitions: list[tuple[Order | None, Order]] = []
    engine.oms.on_order_update(lambda order, previous: transitions.append((previous, order)))
    await engine.connect()
    await engine.update_market("BTCUSDT", Decimal(50000))
    for kind, payload in sequence:
        if kind == "venue":
            what, value = payload
            if what == "price":
                await engine.update_market("BTCUSDT", Decimal(value))
            elif what == "liquidity":
                await control.set_liquidity("BTCUSDT", None if value is None else Decimal(value))
            elif what == "fault":
                await control.inject(value, retry_after=0.0)
            else:
                await engine.oms.cancel_all()
            continue
        ledger_before = len(await control.orders())
        try:
            decision = _decision(payload)
        except InvalidOrder:
            continue  # refused at the boundary, nothing to send
        try:
            await engine.execute_decision(decision)
        except (InvalidOrder, RiskRejected):
            assert len(await control.orders()) == ledger_before, "a refused decision reached the venue"
    await engine.oms.catch_up_missing_fills()
    await engine.oms.reconcile_unknown()

    for previous, order in transitions:
        assert order.filled_quantity <= order.quantity
        if previous is not None and previous.status is not order.status:
            assert can_transition(previous.status, order.status), (previous.status, order.status)
    applied = engine.oms.get_fills()
    trades = {t.trade_id: t for t in await control.trades()}
    assert len({f.trade_id for f in applied}) == len(applied), "a fill was applied twice"
    for fill in applied:
        assert fill.trade_id in trades, "a fill the venue never made"
    signed = sum((f.quantity if f.side is OrderSide.BUY else -f.quantity for f in applied), Decimal(0))
    assert engine.oms.positions.quantity("BTCUSDT") == signed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_random_decisions_and_venue_events_keep_the_invariants(sequence: list[tuple[str, Any]]) -> None:
    anyio.run(_run, sequence)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -1.0, "nan"])
def test_nan_and_infinite_sizes_are_refused_at_the_boundary(bad: object) -> None:
    with pytest.raises(InvalidOrder) as info:
        ExecutionDecision(action="LONG", symbol="BTCUSDT", size=bad)
    assert info.value.field == "size"
