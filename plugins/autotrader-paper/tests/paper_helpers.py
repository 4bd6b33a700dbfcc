"""Builders shared by the paper plugin's tests."""

from __future__ import annotations

import itertools
from decimal import Decimal

from autotrader.adapter import ExecutionEvent
from autotrader.model import Fill, OrderRequest, OrderSide, OrderType, TimeInForce
from autotrader_paper.instruments import DEFAULT_INSTRUMENTS
from autotrader_paper.venue import PaperVenue

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL
_ids = itertools.count()


def make_venue(price: str | None = "50000", **kw: object) -> tuple[PaperVenue, list[ExecutionEvent]]:
    events: list[ExecutionEvent] = []
    settings: dict[str, object] = {
        "initial_balance": D(1_000_000),
        "on_event": events.append,
        "session_id": "s",
    }
    settings.update(kw)
    venue = PaperVenue(DEFAULT_INSTRUMENTS, **settings)  # type: ignore[arg-type]
    if price is not None:
        venue.set_price("BTCUSDT", D(price))
    return venue, events


def req(
    side: OrderSide,
    kind: OrderType = OrderType.LIMIT,
    qty: str = "1",
    price: str | None = None,
    stop: str | None = None,
    tif: TimeInForce = TimeInForce.GTC,
    symbol: str = "BTCUSDT",
) -> OrderRequest:
    return OrderRequest(
        f"o{next(_ids)}",
        symbol,
        side,
        kind,
        D(qty),
        price=D(price) if price else None,
        stop_price=D(stop) if stop else None,
        time_in_force=tif,
    )


def statuses(events: list[ExecutionEvent], coid: str) -> list[str]:
    return [e.status.value for e in events if not isinstance(e, Fill) and e.client_order_id == coid]


def fills(events: list[ExecutionEvent]) -> list[Fill]:
    return [e for e in events if isinstance(e, Fill)]
