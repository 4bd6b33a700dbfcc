"""What the adapter makes of each user-data-stream event (no venue: the events are fed directly)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from autotrader.adapter import ExecutionEvent
from autotrader.model import Fill, OrderRequest, OrderSide, OrderStatus, OrderType, OrderUpdate

from autotrader_binance.adapter import BinanceAdapter
from autotrader_binance.config import BinanceConfig
from autotrader_binance.tracking import TrackedOrder
from test_mapping import report


@pytest.fixture
def adapter() -> tuple[BinanceAdapter, list[ExecutionEvent]]:
    adapter = BinanceAdapter(BinanceConfig(api_key="k", api_secret="s"))
    events: list[ExecutionEvent] = []
    adapter.add_listener(events.append)
    return adapter, events


ACCOUNT_EVENTS: list[dict[str, Any]] = [
    {"e": "outboundAccountPosition", "E": 1, "u": 1, "B": [{"a": "BTC", "f": "1.0", "l": "0.0"}]},
    {"e": "balanceUpdate", "E": 1, "a": "BTC", "d": "100.00000000", "T": 1},
    {"e": "externalLockUpdate", "E": 1, "a": "NEO", "d": "10.00000000", "T": 1},
    {"e": "listStatus", "E": 1, "s": "ETHBTC", "g": 2, "c": "OCO", "l": "EXEC_STARTED", "L": "EXECUTING"},
    {"e": "somethingBinanceAddsLater", "E": 1},
]


@pytest.mark.parametrize("event", ACCOUNT_EVENTS, ids=[e["e"] for e in ACCOUNT_EVENTS])
def test_account_events_are_not_order_events(
    adapter: tuple[BinanceAdapter, list[ExecutionEvent]], event: dict[str, Any]
) -> None:
    binance, events = adapter
    binance._on_stream_event(event)
    assert events == []


def test_trade_then_fill_order(adapter: tuple[BinanceAdapter, list[ExecutionEvent]]) -> None:
    binance, events = adapter
    binance._on_stream_event(report(x="NEW", X="NEW"))
    binance._on_stream_event(
        report(
            x="TRADE", X="FILLED", l="1.00000000", z="1.00000000", L="100", Z="100", t=5, n="0.001", N="BTC"
        )
    )
    kinds = [(type(e).__name__, getattr(e, "status", None)) for e in events]
    assert kinds == [
        ("OrderUpdate", OrderStatus.ACCEPTED),
        ("Fill", None),
        ("OrderUpdate", OrderStatus.FILLED),
    ]  # the fill before the status it causes
    fill = events[1]
    assert isinstance(fill, Fill) and fill.trade_id == "BTCUSDT:5" and fill.quantity == D("1")


def test_the_cancelled_leg_of_a_cancel_replace_is_not_the_end_of_the_order(
    adapter: tuple[BinanceAdapter, list[ExecutionEvent]],
) -> None:
    binance, events = adapter
    request = OrderRequest("at-1", "BTCUSDT", OrderSide.BUY, OrderType.LIMIT, D("1"), price=D("100"))
    tracked = TrackedOrder(request)
    tracked.replaced.add(4293153)
    binance._orders["at-1"] = tracked
    binance._on_stream_event(report(x="CANCELED", X="CANCELED", c="cancel-id", C="at-1"))
    assert events == []
    binance._on_stream_event(report(x="NEW", X="NEW", i=4293154, q="2.00000000"))
    (update,) = events
    assert (
        isinstance(update, OrderUpdate)
        and update.status is OrderStatus.ACCEPTED
        and update.quantity == D("2")
    )


def test_a_plain_cancel_ends_the_order(adapter: tuple[BinanceAdapter, list[ExecutionEvent]]) -> None:
    binance, events = adapter
    binance._on_stream_event(report(x="CANCELED", X="CANCELED", c="cancel-id", C="at-1"))
    (update,) = events
    assert isinstance(update, OrderUpdate) and update.client_order_id == "at-1"
    assert update.status is OrderStatus.CANCELLED


def test_an_amendment_reports_the_smaller_quantity(
    adapter: tuple[BinanceAdapter, list[ExecutionEvent]],
) -> None:
    binance, events = adapter
    binance._on_stream_event(report(x="REPLACED", X="NEW", q="0.40000000", C="at-1"))
    (update,) = events
    assert (
        isinstance(update, OrderUpdate)
        and update.quantity == D("0.4")
        and update.status is OrderStatus.ACCEPTED
    )


def test_rejected_and_expired(adapter: tuple[BinanceAdapter, list[ExecutionEvent]]) -> None:
    binance, events = adapter
    binance._on_stream_event(report(x="REJECTED", X="REJECTED", r="INSUFFICIENT_BALANCES"))
    binance._on_stream_event(report(x="EXPIRED", X="EXPIRED", eR="UNFILLED_IOC_QUANTITY_EXPIRED", i=2))
    statuses = [(e.status, e.reason) for e in events if isinstance(e, OrderUpdate)]
    assert statuses == [
        (OrderStatus.REJECTED, "INSUFFICIENT_BALANCES"),
        (OrderStatus.EXPIRED, "UNFILLED_IOC_QUANTITY_EXPIRED"),
    ]
